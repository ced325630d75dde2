"""The story behind the curve: per indicator and period, the backbone team's short narrative
(what is happening, why, and the partners with a role to play), versioned, audited, rendered
safely, and frozen with each publication of the period."""
