"""The order of the gallery's examples, for sphinx-gallery.

``conf.py`` names the key by its import path, so that the configuration stays
picklable.
"""

import os
import re


class ExampleNumberSortKey:
    """Sort examples by their number, so that ``plot_10_*`` follows ``plot_9_*``.

    Parameters
    ----------
    src_dir : str
        The gallery's source directory (sphinx-gallery passes it).
    """

    def __init__(self, src_dir):
        self.src_dir = src_dir

    def __repr__(self):
        return f"<{type(self).__name__}>"

    def __call__(self, filename):
        number = re.match(r"plot_(\d+)_", os.path.basename(filename))
        return (int(number.group(1)) if number else float("inf"), str(filename))
