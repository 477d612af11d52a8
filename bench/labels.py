"""Realistic recipe labels, reproducibly: "Smoky Grilled Chicken Thighs with Lemon".

Word frequencies are skewed the way real recipe titles are: a few ingredients are everywhere
(chicken is in about one label in eight) and some are rare (yuzu in about one in ten thousand),
so the bench can search for a common and a rare keyword. A few labels are non-ASCII dishes.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

COMMON_KEYWORD = "chicken"
RARE_KEYWORD = "yuzu"

# fmt: off
STYLES = (
    "Smoky", "Spicy", "Easy", "Classic", "Creamy", "Crispy", "Quick", "Slow-Cooker",
    "One-Pot", "Grandma's", "Vegan", "Lemony", "Garlicky", "Sticky", "Herby", "Rustic",
)
METHODS = (
    "Roast", "Grilled", "Braised", "Pan-Fried", "Baked", "Stir-Fried", "Poached", "Slow-Cooked",
    "Charred", "Steamed",
)
# (ingredient, weight): chicken and the like dominate; yuzu is the rare one.
INGREDIENTS = (
    ("Chicken", 120), ("Beef", 60), ("Pork", 50), ("Salmon", 40), ("Tofu", 35), ("Mushroom", 40),
    ("Potato", 45), ("Lentil", 25), ("Chickpea", 25), ("Aubergine", 20), ("Lamb", 30),
    ("Prawn", 25), ("Cauliflower", 20), ("Pumpkin", 15), ("Halloumi", 10), ("Fennel", 8),
    ("Rhubarb", 5), ("Quince", 2), ("Kohlrabi", 1), ("Yuzu", 0.15),
)
DISHES = (
    "Curry", "Stew", "Soup", "Salad", "Pie", "Tacos", "Bake", "Skewers", "Risotto", "Pasta",
    "Tray Bake", "Burgers", "Noodles", "Thighs", "Traybake", "Gratin", "Flatbreads", "Chowder",
)
EXTRAS = (
    "with Lemon", "with Garlic Butter", "and Rice", "with Herbs", "with Chilli Oil",
    "with 100% Rye Toast", "(Gluten_Free)", "with Tahini", "and Greens", "",
)
# Dishes whose names are not ASCII, so search's case folding is exercised beyond ASCII.
NON_ASCII = (
    "Crème brûlée", "ÉCLAIR au chocolat", "Smørrebrød", "Bœuf bourguignon", "Käsespätzle",
    "Straße Bratwurst", "Σουβλάκι", "Пельмени", "Jalapeño Poppers", "Çılbır",  # noqa: RUF001
)
# fmt: on


def generate_labels(count: int, *, seed: int = 4) -> Iterator[str]:
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    names = [name for name, _ in INGREDIENTS]
    weights = [weight for _, weight in INGREDIENTS]
    for _ in range(count):
        if rng.random() < 0.02:
            yield f"{rng.choice(STYLES)} {rng.choice(NON_ASCII)}"
            continue
        ingredient = rng.choices(names, weights)[0]
        extra = rng.choice(EXTRAS)
        parts = [rng.choice(STYLES), rng.choice(METHODS), ingredient, rng.choice(DISHES), extra]
        yield " ".join(part for part in parts if part)
