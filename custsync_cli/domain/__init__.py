"""Domain model: operations, statuses, the field catalogue and validation rules."""
