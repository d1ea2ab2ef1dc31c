"""One blueprint per functional area; thin request handlers."""
