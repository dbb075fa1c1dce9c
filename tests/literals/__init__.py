"""Values computed by other implementations (pytorch-metric-learning, the papers' official code), stored as
literals so the suite needs neither torch nor the official repositories. Each module is printed by its script in
tests/generators/ (tests/test_stored_literals.py and tests/test_imbalance_reference.py check they are current)."""
