"""
==============================
ReLU and its derivative
==============================

The rectified linear unit relu(z) = max{0, z} is the activation of
:class:`sknonlin.TwoLayerReLURegressor`. Its derivative is 0 for z < 0 and 1
for z > 0; at z = 0 the function has a kink and no derivative, and the
package uses the convention relu'(0) = 1:

    relu'(z) = 1 if z ≥ 0, else 0.

Any value in [0, 1] is a valid subgradient at 0. The choice matters only
when a pre-activation is exactly 0, which happens, for example, for a hidden
unit whose weights and bias are all 0.
"""

# %%
# The function and its derivative as code
# ---------------------------------------
import matplotlib.pyplot as plt
import numpy as np


def relu(z):
    return np.maximum(0.0, z)


def relu_derivative(z):
    # The convention at the kink: relu'(0) = 1.
    return (z >= 0).astype(float)


z = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
print("z        ", z)
print("relu(z)  ", relu(z))
print("relu'(z) ", relu_derivative(z))

# %%
# The derivative agrees with finite differences away from 0. At 0 the
# one-sided slopes are 0 (from the left) and 1 (from the right); the
# convention picks the right one.
eps = 1e-6
for point in [-1.0, 0.0, 1.0]:
    left = (relu(point) - relu(point - eps)) / eps
    right = (relu(point + eps) - relu(point)) / eps
    print(
        f"z = {point:+.1f}: left slope {left:.3f}, right slope {right:.3f}, "
        f"relu'(z) = {relu_derivative(np.array(point)):.0f}"
    )

# %%
# Plot
# ----
# The filled dot marks the value taken at z = 0, the open dot the value that
# the derivative approaches from the left.
z = np.linspace(-3, 3, 601)
fig, (ax_f, ax_d) = plt.subplots(1, 2, figsize=(9, 3.5), sharex=True)

ax_f.plot(z, relu(z), color="C0")
ax_f.set(title="relu(z) = max{0, z}", xlabel="z")

negative, positive = z < 0, z >= 0
ax_d.plot(z[negative], relu_derivative(z[negative]), color="C1")
ax_d.plot(z[positive], relu_derivative(z[positive]), color="C1")
ax_d.plot([0], [1], "o", color="C1", label="relu'(0) = 1")
ax_d.plot([0], [0], "o", mfc="white", color="C1")
ax_d.set(title="relu'(z)", xlabel="z", ylim=(-0.2, 1.2))
ax_d.legend(loc="upper left")

for ax in (ax_f, ax_d):
    ax.axhline(0, color="gray", lw=0.5)
    ax.axvline(0, color="gray", lw=0.5)
fig.tight_layout()
plt.show()
