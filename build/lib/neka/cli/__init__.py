"""What every command shares: its entry, the command line (Korean values), configuration
errors and resolvers, and a quiet console."""
