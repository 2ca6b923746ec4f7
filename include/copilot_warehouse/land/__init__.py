"""Land: downloaded report parts become immutable, replayable landing-zone files with manifests."""
