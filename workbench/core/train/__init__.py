"""Training engine: optimizer and loss registries, the Trainer and its callbacks."""
