"""The lint checks, one module per family of rules; each module names the PG ids it emits."""
