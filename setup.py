"""Where the packages come from; everything else is in pyproject.toml.

The built-in connectors live in the top-level ``connectors/`` folder of the repository
but install as ``bridge.connectors``: a generic top-level name such as ``connectors``
would clash with other installed packages. pyproject.toml's ``packages.find`` cannot
map a folder to another package name, so the list of packages is made here: every
package found under ``bridge/`` (the test helpers and simulators included, as
``bridge.testing``), plus ``bridge.connectors``.
"""

from setuptools import find_packages, setup

setup(
    packages=[*find_packages(include=["bridge", "bridge.*"]), "bridge.connectors"],
    package_dir={"bridge.connectors": "connectors"},
)
