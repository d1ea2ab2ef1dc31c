"""Framework-level building blocks: database, clock, errors, logging, auth wiring."""
