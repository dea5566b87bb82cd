"""Invented, bilingual (EN/FR) place names for the fictional demo country.

Names are built from syllables so they belong to no real language or place; a short
deny-list removes real towns and unfortunate words the syllables could happen to spell.
"""
from __future__ import annotations

import random
from math import atan2, pi

_ONSETS = ("b", "d", "f", "g", "k", "l", "m", "n", "r", "s", "t", "v", "y", "z", "mb", "nd", "ts", "kw")
_VOWELS = ("a", "e", "i", "o", "u", "a", "o")
_CODAS = ("", "", "", "n", "l", "r")

# Real places and words these syllables can spell; we want none of them on a demo map.
_DENY = frozenset({
    "bama", "beni", "bole", "bor", "bunia", "dala", "dori", "gao", "goma", "gulu", "kaga", "kaya",
    "kano", "kasese", "kigoma", "lere", "lira", "lome", "mali", "mao", "mafa", "marte", "mora",
    "mongo", "moroni", "nazi", "pala", "sarh", "tanga", "tete", "tine", "togo", "wau", "yei",
    "yola", "zaria", "bite", "kaka", "tuer", "mort", "sida", "bubu", "kuku", "lala", "nana",
    "dodo", "roro", "titi", "zizi", "kiki", "teso", "duna", "lera", "boyer", "yabo", "soroti",
})

# Adm1 names by compass sector of the area's centroid (relative to the country centre).
_SECTOR_NAMES = {
    "N": ("North Highlands", "Hauts-Plateaux du Nord"),
    "NE": ("North-East Hills", "Collines du Nord-Est"),
    "E": ("Eastern Coast", "Côte Est"),
    "SE": ("South-East Savannah", "Savane du Sud-Est"),
    "S": ("Southern Lakes", "Lacs du Sud"),
    "SW": ("South-West Delta", "Delta du Sud-Ouest"),
    "W": ("Western Plains", "Plaines de l'Ouest"),
    "NW": ("North-West Forest", "Forêt du Nord-Ouest"),
    "C": ("Central Valley", "Vallée Centrale"),
}

# Qualifiers that translate, as admin names often do ("Haut-Uele", "Lower Shabelle").
_QUALIFIERS = (
    ("Upper {r}", "Haut-{r}"),
    ("Lower {r}", "Bas-{r}"),
    ("{r} East", "{r}-Est"),
    ("{r} West", "{r}-Ouest"),
    ("{r} Centre", "{r}-Centre"),
    ("{r} North", "{r}-Nord"),
    ("{r} South", "{r}-Sud"),
)


class NameMaker:
    """Hands out invented roots that are unique within one generated country."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._used: set[str] = set()

    def root(self) -> str:
        while True:
            syllables = self._rng.choice((2, 3, 3))
            parts = [self._rng.choice(_ONSETS) + self._rng.choice(_VOWELS) for _ in range(syllables)]
            parts[-1] += self._rng.choice(_CODAS)
            word = "".join(parts)
            # Repeated syllables ("kaka") read as baby talk, not as a place.
            if len(set(parts)) < len(parts) or word in _DENY or word in self._used:
                continue
            self._used.add(word)
            return word.capitalize()

    def admin_name(self, qualified_share: float) -> tuple[str, str]:
        """(EN, FR) name; some share carries a translated qualifier, the rest is a bare root."""
        root = self.root()
        if self._rng.random() >= qualified_share:
            return root, root
        en, fr = self._rng.choice(_QUALIFIERS)
        return en.format(r=root), fr.format(r=root)


def compass_sector(dx: float, dy: float, centre_radius: float) -> str:
    """Sector of an offset from the country centre; small offsets count as the centre."""
    if (dx * dx + dy * dy) ** 0.5 < centre_radius:
        return "C"
    sectors = ("E", "NE", "N", "NW", "W", "SW", "S", "SE")
    angle = atan2(dy, dx) % (2 * pi)
    return sectors[int((angle + pi / 8) // (pi / 4)) % 8]


def adm1_names(offsets: list[tuple[float, float]], centre_radius: float, names: NameMaker) -> list[tuple[str, str]]:
    """A regional (EN, FR) name per adm1 offset; repeats of a sector get an invented province name."""
    taken: set[str] = set()
    result = []
    for dx, dy in offsets:
        sector = compass_sector(dx, dy, centre_radius)
        if sector not in taken:
            taken.add(sector)
            result.append(_SECTOR_NAMES[sector])
            continue
        root = names.root()
        result.append((f"{root} Province", f"Province de {root}"))
    return result
