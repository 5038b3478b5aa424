"""The shipped dialogue files (YAML that admins edit); this package only lets them be found."""
