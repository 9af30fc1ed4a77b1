"""What the SQL backends share: the schema, portable column types, row mapping."""
