"""The workspace's widgets. They render state and post messages; they never call the model, the store or git."""
