"""Channel adapters: each translates its medium to UserInput and renders Reply, nothing more."""
