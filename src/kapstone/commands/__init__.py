"""Pure console subcommands: JSON in, JSON out, no Django."""
