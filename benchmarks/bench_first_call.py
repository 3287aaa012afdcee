"""How long a user waits for the first call, each estimator against its peer.

Each case runs in a fresh Python process on 100 x 5 data and times, apart,
the imports (numpy, scikit-learn, sknonlin) and the first call: ``fit`` (then
the first ``predict``) of a model, ``fit_transform`` (then the first
``transform``) of the feature map. Each estimator is timed with its default
options, and a few other options that run kernels of their own are timed too
(the tanh and logistic activations, the penalized perceptrons). Two
situations are measured:

* cold: numba's compile cache is empty (a fresh ``NUMBA_CACHE_DIR``), as on a
  fresh install or in a fresh CI environment;
* warm: a later process, with the cache filled by an earlier one.

scikit-learn's peers compile nothing, so one situation is timed for them. The
script prints the median over a few runs of each, in seconds. Goals: a cold
first call at most 1.0 s, a warm one at most 0.1 s.

Run from the repository root::

    python benchmarks/bench_first_call.py              # 3 runs per case
    python benchmarks/bench_first_call.py --repeats 5
    python benchmarks/bench_first_call.py --cases "Perceptron l2"
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap

# The checkout whose sknonlin is timed: the working directory when it holds
# one (to time another checkout with this script), else this script's.
REPOSITORY = (
    os.getcwd()
    if os.path.isdir(os.path.join(os.getcwd(), "sknonlin"))
    else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
)

# Data and estimators, built after the imports are timed.
DATA = """
rng = np.random.default_rng(0)
X = rng.standard_normal((100, 5))
y_reg = np.sin(X[:, 0]) + X[:, 1] * X[:, 2]
y_bin = (X @ [1.0, -2.0, 0.5, 0.3, 0.0] > 0).astype(int)
y_multi = np.argmax(X @ rng.standard_normal((5, 3)), axis=1)
X_sparse = sparse.csr_matrix(np.where(np.abs(X) > 1, X, 0.0))
"""

# name: (imports, first call, second call) for ours and for scikit-learn's peer
CASES = {
    "PolynomialFeatureMap dense": (
        "from sknonlin import PolynomialFeatureMap as T",
        "from sklearn.preprocessing import PolynomialFeatures as T",
        "est = T(2); est.fit_transform(X)",
        "est.transform(X[:10])",
    ),
    "PolynomialFeatureMap sparse": (
        "from sknonlin import PolynomialFeatureMap as T",
        "from sklearn.preprocessing import PolynomialFeatures as T",
        "est = T(2); est.fit_transform(X_sparse)",
        "est.transform(X_sparse[:10])",
    ),
    "TwoLayerReLURegressor": (
        "from sknonlin import TwoLayerReLURegressor as T",
        "from sklearn.neural_network import MLPRegressor as T",
        "width = {'n_hidden' if OURS else 'hidden_layer_sizes': 100}\n"
        "est = T(**width, random_state=0); est.fit(X, y_reg)",
        "est.predict(X[:10])",
    ),
    "Perceptron": (
        "from sknonlin import Perceptron as T",
        "from sklearn.linear_model import Perceptron as T",
        "est = T(random_state=0); est.fit(X, y_bin)",
        "est.predict(X[:10])",
    ),
    "MulticlassPerceptron": (
        "from sknonlin import MulticlassPerceptron as T",
        "from sklearn.linear_model import Perceptron as T",
        "est = T(random_state=0); est.fit(X, y_multi)",
        "est.predict(X[:10])",
    ),
    # options other than the defaults, which run other kernels
    "TwoLayerReLURegressor tanh": (
        "from sknonlin import TwoLayerReLURegressor as T",
        "from sklearn.neural_network import MLPRegressor as T",
        "width = {'n_hidden' if OURS else 'hidden_layer_sizes': 100}\n"
        "est = T(**width, activation='tanh', random_state=0); est.fit(X, y_reg)",
        "est.predict(X[:10])",
    ),
    "TwoLayerReLURegressor logistic": (
        "from sknonlin import TwoLayerReLURegressor as T",
        "from sklearn.neural_network import MLPRegressor as T",
        "width = {'n_hidden' if OURS else 'hidden_layer_sizes': 100}\n"
        "est = T(**width, activation='logistic', random_state=0)\n"
        "est.fit(X, y_reg)",
        "est.predict(X[:10])",
    ),
    "Perceptron l2": (
        "from sknonlin import Perceptron as T",
        "from sklearn.linear_model import Perceptron as T",
        "est = T(penalty='l2', random_state=0); est.fit(X, y_bin)",
        "est.predict(X[:10])",
    ),
    "MulticlassPerceptron elasticnet": (
        "from sknonlin import MulticlassPerceptron as T",
        "from sklearn.linear_model import Perceptron as T",
        "est = T(penalty='elasticnet', random_state=0); est.fit(X, y_multi)",
        "est.predict(X[:10])",
    ),
}

SCRIPT = """
import time
start = time.perf_counter()
import json, warnings
import numpy as np
from scipy import sparse
{imports}
imported = time.perf_counter()
warnings.simplefilter("ignore")
OURS = {ours}
{data}
start_call = time.perf_counter()
{first}
first = time.perf_counter()
{second}
second = time.perf_counter()
{after}
print(json.dumps({{"import": imported - start, "first": first - start_call,
                  "second": second - first}}))
"""

# Fills the cache: every kernel run on its fallback is compiled before exit.
PRIME = """
try:
    from sknonlin import _jit
except ImportError:  # an older sknonlin compiled in the calling thread
    pass
else:
    _jit.wait_for_background_compilation()
"""
PRIME_BEFORE = """
try:
    from sknonlin import _jit
    _jit._COMPILE_AFTER_S = 0.0
except ImportError:
    pass
"""


def run_case(imports, first, second, ours, cache_dir, prime=False):
    script = SCRIPT.format(
        imports=(PRIME_BEFORE if prime else "") + imports,
        ours=ours,
        data=DATA,
        first=first,
        second=second,
        after=PRIME if prime else "",
    )
    env = dict(os.environ, NUMBA_CACHE_DIR=cache_dir)
    env["PYTHONPATH"] = os.pathsep.join([REPOSITORY, env.get("PYTHONPATH", "")])
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def medians(runs):
    return {key: statistics.median(run[key] for run in runs) for key in runs[0]}


def line(label, times):
    return (
        f"{label:<34} import {times['import']:6.2f}  first call "
        f"{times['first']:7.3f}  second {times['second']:7.4f}"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", nargs="*", default=list(CASES))
    args = parser.parse_args()
    print(f"median of {args.repeats} fresh processes, seconds\n", flush=True)
    for name in args.cases:
        ours_imports, peer_imports, first, second = CASES[name]
        with tempfile.TemporaryDirectory() as root:
            cold = []
            for run in range(args.repeats):
                cache = os.path.join(root, f"cold{run}")
                cold.append(run_case(ours_imports, first, second, True, cache))
            warm_cache = os.path.join(root, "warm")
            run_case(ours_imports, first, second, True, warm_cache, prime=True)
            warm = [
                run_case(ours_imports, first, second, True, warm_cache)
                for _ in range(args.repeats)
            ]
            peer = [
                run_case(peer_imports, first, second, False, warm_cache)
                for _ in range(args.repeats)
            ]
        cold, warm, peer = medians(cold), medians(warm), medians(peer)
        print(name, flush=True)
        print(line("  ours, empty cache", cold), check(cold["first"], 1.0))
        print(line("  ours, later process", warm), check(warm["first"], 0.1))
        print(line("  scikit-learn", peer), flush=True)


def check(value, goal):
    return f"(goal <= {goal}: {'met' if value <= goal else 'MISSED'})"


if __name__ == "__main__":
    main()
