"""The benchmarks: what they measure and how, kept outside the installed package (``pip install .`` ships
none of them). ``python -m benchmarks --help`` lists every bench; ``make bench`` runs them."""
