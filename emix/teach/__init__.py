"""EM step by step for learning and teaching, and the pictures."""
