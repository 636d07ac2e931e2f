# Sourced by tests/pyclient.sh and tests/tools.sh: one virtualenv for both, kept in
# target/py-venv (a cache: made again when tests/py-requirements.txt changes), with the pinned
# packages of tests/py-requirements.txt (pandas, pytest, pyogrio, whose wheel bundles GDAL, and
# geopandas, which pyogrio.read_dataframe needs) and the Python client of clients/python as it
# is in the work tree. Sets $py to its python.
pyvenv=target/py-venv
py=$pyvenv/bin/python
if [ ! -x "$py" ] || ! cmp -s tests/py-requirements.txt "$pyvenv/requirements.txt"; then
  rm -rf "$pyvenv"
  python3 -m venv "$pyvenv"
  "$py" -m pip install -q --disable-pip-version-check -r tests/py-requirements.txt "./clients/python[pandas]"
  cp tests/py-requirements.txt "$pyvenv/requirements.txt"
fi
"$py" -m pip install -q --disable-pip-version-check --no-deps --force-reinstall ./clients/python
