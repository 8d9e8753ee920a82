"""Services: the verbs stations and the CLI call, each taking a unit of work."""
