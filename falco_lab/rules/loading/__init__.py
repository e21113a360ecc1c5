"""Loading rules files like Falco's rule loader: YAML reading, schema, items, rule exceptions, collection, results."""
