import numpy as np


class Model:
    """Always the most frequent class of the training labels."""

    def fit(self, x, y):
        values, counts = np.unique(y, return_counts=True)
        self.majority = values[counts.argmax()]

    def predict(self, x):
        return np.full(len(x), self.majority)
