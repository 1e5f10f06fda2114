"""The EM engine: one pass over the data, the driver, convergence, acceleration, the chunk pool."""
