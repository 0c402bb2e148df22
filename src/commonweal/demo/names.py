"""Word lists for the synthetic demo community: names, languages, neighbourhoods, groups, notes.

The lists are deliberately modest (165 first names and 165 surnames from ten cultural groups) and
invented for the demo: any resemblance of a generated person to a real one is coincidence. Each
cultural group carries the language its older members are most likely to prefer; the community's
main language is English.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

__all__ = [
    "CULTURES",
    "ELDER_NOTES",
    "GENERAL_NOTES",
    "GROUP_DESCRIPTIONS",
    "GROUP_TEMPLATES",
    "NEIGHBOURHOOD_NAMES",
    "Culture",
    "email_slug",
    "neighbourhood_name",
]


@dataclass(frozen=True, slots=True)
class Culture:
    """One cultural group: its share of households, language and name lists."""

    key: str
    weight: float
    language: str | None  # ISO 639-1 code of the heritage language; None when it is English
    first_names: tuple[str, ...]
    surnames: tuple[str, ...]


# fmt: off
CULTURES: tuple[Culture, ...] = (
    Culture(
        "anglo_celtic", 0.42, None,
        (
            "Olivia", "Liam", "Emma", "Noah", "Charlotte", "James", "Amelia", "William", "Sophie",
            "Benjamin", "Grace", "Thomas", "Hannah", "Jack", "Margaret", "Ethan", "Chloe",
            "Daniel", "Emily", "Ryan", "Abigail", "Nathan", "Megan", "Owen", "Jessica", "Dylan",
            "Lauren", "Michael", "Susan", "Robert",
        ),
        (
            "Smith", "Johnson", "Brown", "Taylor", "Wilson", "Campbell", "Anderson", "MacDonald",
            "Thompson", "Martin", "Walker", "Robinson", "Clarke", "Murphy", "O'Brien", "Stewart",
            "Fraser", "Hughes", "Evans", "Kelly", "Bennett", "Gray", "Harris", "Fletcher", "Reid",
            "Morrison", "Hamilton", "Lewis", "Wright", "Cooper",
        ),
    ),
    Culture(
        "french", 0.04, "fr",
        (
            "Chloé", "Louis", "Camille", "Gabriel", "Léa", "Mathis", "Juliette", "Étienne",
            "Manon", "Antoine", "Élodie", "Rémi", "Sylvie", "Jacques", "Margaux",
        ),
        (
            "Tremblay", "Gagnon", "Roy", "Côté", "Bouchard", "Gauthier", "Morin", "Lavoie",
            "Fortin", "Gagné", "Ouellet", "Pelletier", "Bélanger", "Lévesque", "Bergeron",
        ),
    ),
    Culture(
        "chinese", 0.09, "zh",
        (
            "Wei", "Mei", "Jun", "Xiu", "Hao", "Ling", "Jian", "Yan", "Yu", "Fang", "Min", "Lei",
            "Hui", "Qiang", "Jia",
        ),
        (
            "Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu",
            "Sun", "Ma", "Zhu", "Lin",
        ),
    ),
    Culture(
        "south_asian", 0.1, "pa",
        (
            "Harpreet", "Gurpreet", "Manpreet", "Arjun", "Priya", "Rajesh", "Simran", "Amandeep",
            "Navjot", "Anjali", "Vikram", "Jaspreet", "Sunita", "Ravi", "Kiran",
        ),
        (
            "Singh", "Kaur", "Sandhu", "Gill", "Dhillon", "Sidhu", "Grewal", "Brar", "Sharma",
            "Patel", "Gupta", "Mehta", "Kumar", "Bains", "Johal",
        ),
    ),
    Culture(
        "filipino", 0.07, "tl",
        (
            "Maria", "Jose", "Angelica", "Mark", "Kristine", "Paolo", "Jasmine", "Rodel",
            "Marites", "Jerome", "Rowena", "Ramon", "Liza", "Carlo", "Analyn",
        ),
        (
            "Santos", "Reyes", "Cruz", "Bautista", "Ocampo", "Garcia", "Mendoza", "Dela Cruz",
            "Villanueva", "Ramos", "Aquino", "Castillo", "Navarro", "Soriano", "Manalo",
        ),
    ),
    Culture(
        "hispanic", 0.05, "es",
        (
            "Sofía", "Mateo", "Valentina", "Santiago", "Camila", "Diego", "Lucía", "Alejandro",
            "Isabel", "Carlos", "Gabriela", "Luis", "Daniela", "Andrés", "Rosa",
        ),
        (
            "Hernández", "López", "González", "Rodríguez", "Martínez", "Pérez", "Sánchez",
            "Ramírez", "Torres", "Flores", "Rivera", "Gómez", "Díaz", "Morales", "Vargas",
        ),
    ),
    Culture(
        "arabic", 0.06, "ar",
        (
            "Ahmed", "Fatima", "Omar", "Layla", "Youssef", "Aisha", "Khalid", "Mariam", "Hassan",
            "Noor", "Karim", "Samira", "Tariq", "Huda", "Bilal",
        ),
        (
            "Haddad", "Khalil", "Nasser", "Saleh", "Mansour", "Hamdan", "Abdullah", "Farouk",
            "Ibrahim", "Al-Sayed", "Aziz", "Darwish", "Hussein", "Rahman", "Said",
        ),
    ),
    Culture(
        "vietnamese", 0.03, "vi",
        (
            "Anh", "Minh", "Linh", "Huy", "Thao", "Duc", "Lan", "Tuan", "Hoa", "Quang", "Mai",
            "Khanh", "Trang", "Long", "Phuong",
        ),
        (
            "Nguyen", "Tran", "Le", "Pham", "Hoang", "Phan", "Vu", "Dang", "Bui", "Do", "Ho",
            "Ngo", "Duong", "Ly", "Vo",
        ),
    ),
    Culture(
        "somali", 0.04, "so",
        (
            "Abdirahman", "Hodan", "Abdi", "Asha", "Mahad", "Hawa", "Liban", "Sahra", "Yusuf",
            "Ifrah", "Guled", "Faduma", "Mohamed", "Ubah", "Ayaan",
        ),
        (
            "Warsame", "Farah", "Mohamud", "Jama", "Osman", "Hersi", "Egal", "Aden", "Dahir",
            "Ismail", "Nur", "Abdullahi", "Omar", "Elmi", "Hirsi",
        ),
    ),
    Culture(
        "ukrainian", 0.1, "uk",
        (
            "Olena", "Andriy", "Oksana", "Taras", "Iryna", "Mykola", "Natalia", "Dmytro",
            "Halyna", "Serhiy", "Kateryna", "Bohdan", "Yulia", "Petro", "Larysa",
        ),
        (
            "Kovalenko", "Shevchenko", "Bondarenko", "Tkachenko", "Kravchenko", "Melnyk", "Boyko",
            "Hrytsenko", "Savchuk", "Lysenko", "Marchenko", "Zelinsky", "Moroz", "Koval",
            "Rudenko",
        ),
    ),
)

NEIGHBOURHOOD_NAMES: tuple[str, ...] = (
    "Riverside", "Hillcrest", "Old Town", "Northgate", "Millbrook", "Westwood", "Eastfield",
    "Parkdale", "Kingsland", "Oakridge", "Elm Grove", "Southview", "Brookside", "Maple Heights",
    "Cedar Park", "Lakeview", "Fairmont", "Greenway", "Highbury", "Ashford", "Rosedale",
    "Meadowbrook", "Stonegate", "Willowdale", "Fernhill", "Birchwood", "Pinecrest", "Thornhill",
    "Glenwood", "Foxhollow", "Silverdale", "Larkspur", "Orchard Hill", "Copperfield",
    "Bramble Park", "Harvest Hills", "Aspen Ridge", "Poplar Flats", "Juniper Row", "Sandstone",
)
# fmt: on

# group kind -> name templates (kind codes: 0 team, 1 affinity, 2 practice, 3 peer_support, 4 other)
GROUP_TEMPLATES: tuple[tuple[str, ...], ...] = (
    (
        "Community kitchen volunteers",
        "Food bank sorting team",
        "Snow shovelling crew",
        "Library volunteers",
        "Clinic reception team",
        "School breakfast club team",
        "Park clean-up crew",
        "Warehouse night shift",
    ),
    (
        "Walking group",
        "Chess club",
        "Seniors' coffee morning",
        "Parents of toddlers",
        "Book club",
        "Soccer team",
        "Newcomers' welcome group",
        "Cricket club",
    ),
    (
        "Community garden",
        "Choir",
        "Repair café",
        "Knitting circle",
        "Woodworking shop",
        "Language exchange",
    ),
    (
        "Carers' circle",
        "Grief support circle",
        "New parents circle",
        "Men's shed",
        "Recovery peer group",
        "Chronic pain support group",
    ),
    ("Tenants' association", "Block watch", "Faith community outreach"),
)

GROUP_DESCRIPTIONS: tuple[str, ...] = (
    "Volunteer team; meets weekly",
    "Social group open to all; meets weekly",
    "Hands-on practice group; meets fortnightly",
    "Peer-support circle with a trained facilitator; meets weekly",
    "Neighbourhood organisation; meets monthly",
)

ELDER_NOTES: tuple[str, ...] = (
    "Uses a walking frame; stairs are hard",
    "Hard of hearing: prefers visits to phone calls",
    "Daughter lives out of province",
    "Recently widowed",
    "No car; relies on the bus",
    "Prefers calls in the morning",
    "Needs help with groceries in winter",
    "Has a cat that needs feeding if admitted to hospital",
)

GENERAL_NOTES: tuple[str, ...] = (
    "Works night shifts",
    "Can drive others to appointments",
    "Prefers text messages",
    "Has a dog",
    "New to the city",
    "Knows some sign language",
)


def neighbourhood_name(index: int) -> str:
    """Name of neighbourhood ``index``; after the 40 base names, numbered ("Riverside 2")."""
    base = NEIGHBOURHOOD_NAMES[index % len(NEIGHBOURHOOD_NAMES)]
    round_ = index // len(NEIGHBOURHOOD_NAMES)
    return base if round_ == 0 else f"{base} {round_ + 1}"


def email_slug(name: str) -> str:
    """Lower-case ASCII letters of ``name`` ("Côté" -> "cote", "O'Brien" -> "obrien")."""
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return "".join(ch for ch in folded.lower() if ch.isalnum())
