"""Business rules and transaction boundaries. Nothing here imports Flask."""
