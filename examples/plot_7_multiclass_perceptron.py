"""
=========================================================
The multiclass perceptron on digits, against one-vs-rest
=========================================================

The multiclass perceptron keeps one weight vector per class, predicts
ŷ = argmax_k w_kᵀx, and on a mistake moves two rows: w_ŷ ← w_ŷ − x and
w_y ← w_y + x. One-vs-rest instead trains K independent binary perceptrons,
"class k against the rest", and predicts the class with the largest score.

On the handwritten digits bundled with scikit-learn we compare the two, with
and without averaging the weights over all steps.
"""

# %%
# Data
# ----
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Perceptron as SklearnPerceptron
from sklearn.model_selection import train_test_split
from sklearn.multiclass import OneVsRestClassifier
from sklearn.preprocessing import StandardScaler

from sknonlin import MulticlassPerceptron, Perceptron

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
print(f"{X_train.shape[0]} training and {X_test.shape[0]} test images, 10 classes")

# %%
# Five classifiers, 30 epochs each
# --------------------------------
# scikit-learn's own ``Perceptron`` is one-vs-rest too; we include it with its
# default settings as a reference. The training data are not separable in 30
# epochs, so the estimators warn that they reached ``max_iter``; we silence
# that here.
models = {
    "multiclass": MulticlassPerceptron(max_iter=30, random_state=0),
    "multiclass, averaged": MulticlassPerceptron(
        max_iter=30, average=True, random_state=0
    ),
    "one-vs-rest": OneVsRestClassifier(Perceptron(max_iter=30, random_state=0)),
    "one-vs-rest, averaged": OneVsRestClassifier(
        Perceptron(max_iter=30, average=True, random_state=0)
    ),
    "scikit-learn Perceptron": SklearnPerceptron(random_state=0),
}
accuracy = {}
for name, model in models.items():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X_train, y_train)
    accuracy[name] = model.score(X_test, y_test)
    print(f"{name:>24}: test accuracy {accuracy[name]:.3f}")

# %%
# Mistakes and accuracy, epoch by epoch
# -------------------------------------
# ``partial_fit`` runs one epoch at a time, so we can follow the test
# accuracy of the last weights and of the averaged ones as training goes on.
# The last weights jump after every mistake, and their test accuracy swings
# from one epoch to the next; the average moves slowly, is good after a few
# epochs already, and stays steady. When you cannot afford to pick the
# number of epochs carefully, average.
classes = np.unique(y_train)
curves = {}
for average in [False, True]:
    clf = MulticlassPerceptron(average=average, random_state=0)
    scores = []
    for _ in range(30):
        clf.partial_fit(X_train, y_train, classes=classes)
        scores.append(clf.score(X_test, y_test))
    curves[average] = scores

plain = models["multiclass"]
fig, (ax_mistakes, ax_accuracy) = plt.subplots(1, 2, figsize=(10, 3.8))
ax_mistakes.plot(np.arange(1, len(plain.mistakes_) + 1), plain.mistakes_)
ax_mistakes.set(xlabel="epoch", ylabel="mistakes", title="Mistakes per epoch")
epochs = np.arange(1, 31)
ax_accuracy.plot(epochs, curves[False], label="last weights")
ax_accuracy.plot(epochs, curves[True], label="averaged weights")
ax_accuracy.set(xlabel="epoch", ylabel="test accuracy", title="Test accuracy")
ax_accuracy.legend()
fig.tight_layout()

# %%
# Summary
# -------
fig, ax = plt.subplots(figsize=(7, 3))
names = list(accuracy)
ax.barh(names, [accuracy[name] for name in names], color="C0")
for i, name in enumerate(names):
    ax.text(
        accuracy[name] - 0.005,
        i,
        f"{accuracy[name]:.3f}",
        va="center",
        ha="right",
        color="white",
    )
ax.set(xlim=(min(accuracy.values()) - 0.05, 1.0), xlabel="test accuracy")
ax.invert_yaxis()
fig.tight_layout()
plt.show()
