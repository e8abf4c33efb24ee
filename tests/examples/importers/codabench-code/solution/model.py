import numpy as np


class Model:
    """Nearest class centroid."""

    def fit(self, x, y):
        self.classes = np.unique(y)
        self.centroids = np.stack([x[y == c].mean(axis=0) for c in self.classes])

    def predict(self, x):
        distances = ((x[:, None, :] - self.centroids[None, :, :]) ** 2).sum(axis=2)
        return self.classes[distances.argmin(axis=1)]
