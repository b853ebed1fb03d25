"""After commit: webhook subscriptions and deliveries (`webhooks`), SMS of notices (`sms`)."""
