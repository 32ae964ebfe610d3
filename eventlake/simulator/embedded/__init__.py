"""The embedded AWS: moto in process, with the stack's resources created from the specs Pulumi deploys."""
