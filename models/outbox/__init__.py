"""The transactional outbox: messages written in the transaction of the change they tell of,
what each person wants to hear about, and the signed unsubscribe links (README, "Notifications").
Delivery is models/notifications."""
