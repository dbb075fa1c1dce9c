"""Write breast_cancer.csv: scikit-learn's bundled Wisconsin breast cancer data (569 tumours, 30 features;
shipped inside scikit-learn, nothing is downloaded), with `malignant` (1 for the 212 malignant ones) as the
label column."""

import pathlib

from sklearn.datasets import load_breast_cancer

frame = load_breast_cancer(as_frame=True).frame
frame["malignant"] = 1 - frame.pop("target")  # scikit-learn's target is 1 for benign
path = pathlib.Path(__file__).with_name("breast_cancer.csv")
frame.to_csv(path, index=False)
print(f"wrote {path.name}: {len(frame)} rows, {frame.shape[1] - 1} features, {int(frame['malignant'].sum())} malignant")
