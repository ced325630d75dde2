"""Setting up an initiative: organisations, initiatives, members, outcomes, dimensions,
indicators, their gap targets, periods and series breaks, one module per resource.

Rules every function here follows: every caller must be logged in. Organisations are visible to
every logged-in user; admin creates them, and an initiative's backbone only as a new member of
that initiative (:func:`~models.initiatives.organisations.check_may_create`); only admin may
change or delete them. Only admin creates or deletes initiatives. Everything below an
initiative is read by whoever may view the initiative and changed by its backbone (or admin);
others get 404, so tenants stay invisible, and viewers who may not change it get 403. Every
change writes an audit event (:class:`~models.audit.trail.EntityAudit`). Functions flush, never
commit. Deleting something that reported data depends on is refused with
:class:`~models.core.errors.Conflict` instead of cascading it away.
"""
