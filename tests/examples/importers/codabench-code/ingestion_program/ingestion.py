import json
import os
import sys

import numpy as np

input_dir = "/app/input_data/"
output_dir = "/app/output/"
submission_dir = "/app/ingested_program"
sys.path.append(submission_dir)


def main():
    from model import Model

    x_train = np.loadtxt(os.path.join(input_dir, "training_data"), ndmin=2)
    y_train = np.loadtxt(os.path.join(input_dir, "training_label"))
    x_test = np.loadtxt(os.path.join(input_dir, "testing_data"), ndmin=2)
    model = Model()
    model.fit(x_train, y_train)
    prediction = np.asarray(model.predict(x_test))
    np.savetxt(os.path.join(output_dir, "prediction"), prediction)
    with open(os.path.join(output_dir, "metadata.json"), "w") as handle:
        json.dump({"rows": len(x_test)}, handle)
    print("ingestion finished:", len(x_test), "predictions")


if __name__ == "__main__":
    main()
