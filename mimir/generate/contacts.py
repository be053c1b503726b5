"""Key-contacts lines ("Delyth Arrowsmith, Operations Manager, extension 214"): who, in which role,
reached how — the facts a handbook's contact list teaches, asked about by role, by name and for the
way to reach them, and answered as a plain sentence."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Contact:
    """A key-contacts line "Delyth Arrowsmith, Operations Manager, extension 214": a person, their
    role and how to reach them (``key`` "extension" / "email" / "phone" / "room", ``value`` as written)."""

    name: str
    role: str
    key: str = ""
    value: str = ""

    def targets(self) -> list[str]:
        return [self.name, self.role] + ([self.value] if self.value else [])

    def questions(self, target: str) -> list[str]:
        role, name = f"the {self.role}", self.name
        owner = name + ("'" if name.endswith("s") else "'s")
        if target == self.name:
            return [f"Who is {role}?", f"Who holds the role of {self.role}?"]
        if target == self.role:
            return [f"What is the role of {name}?", f"What job does {name} do?"]
        if target != self.value:
            return []
        if self.key == "room":
            return [f"Where is {owner} office?", f"Which room is {role} in?"]
        noun = {"phone": "phone number", "email": "email address"}.get(self.key, self.key)
        return [f"What is the {noun} of {role}?", f"What is {owner} {noun}?"]

    def sentence(self) -> str:
        """The line as one plain sentence: "Delyth Arrowsmith is the Operations Manager, on extension 214."."""
        reach = {"email": f", at {self.value}", "room": f", in {self.value}"}.get(self.key, f", on {self.value}" if self.value else "")
        return f"{self.name} is the {self.role}{reach}."


_PERSON = r"(?:(?:Captain|Capt\.|Dr\.?|Mr\.?|Mrs\.?|Ms\.?|Prof\.?|Professor|Sister|Nurse)\s+)?[A-Z][a-z'’-]+(?:[ -][A-Z][a-z'’-]+){1,3}"
_CONTACT = re.compile(rf"^(?P<name>{_PERSON}),\s+(?P<role>[A-Z][^,;:()]{{2,60}}?)(?:,\s+(?P<how>[^,;]{{3,60}}?))?\.?$")
_REACH = re.compile(r"^(?P<key>extension|ext\.?|phone|tel\.?|telephone|mobile|room|email|e-mail)\s+\S", re.I)
TITLE_WORD = re.compile(r"\b(Manager|Officer|Lead|Supervisor|Director|Head|Coordinator|Co-ordinator|Master|Nurse|Partner|Chair|"
                         r"Secretary|Administrator|Engineer|Technician|Clerk|Assistant|Adviser|Advisor|Counsellor|Instructor|"
                         r"Teacher|Receptionist|Owner|President|Treasurer|Warden|Controller|Specialist|Consultant|Principal|"
                         r"Chief|Superintendent|Inspector|Representative|Trainer|Coach|Lifeguard|Captain|Skipper|Steward)s?\b")
_KEY_NAMES = {"ext": "extension", "ext.": "extension", "tel": "phone", "tel.": "phone", "telephone": "phone", "mobile": "phone",
              "e-mail": "email"}


def contact_line(sentence: str) -> Contact | None:
    """The parts of a "Name, Role[, extension N | email | phone]" list line, or None for anything else
    (a third part must be a way to reach them; without one the role must read as a job title)."""
    from mimir.generate.questions import _has_finite_verb  # the question rules' verb test (they import this module)

    match = _CONTACT.match(sentence.strip())
    if not match or _has_finite_verb(match.group("role")):
        return None
    name, role, how = match.group("name"), match.group("role").strip(), (match.group("how") or "").strip()
    if not how:
        return Contact(name, role) if TITLE_WORD.search(role) else None
    reach = _REACH.match(how)
    if reach:
        key = reach.group("key").lower()
        return Contact(name, role, _KEY_NAMES.get(key, key), how)
    if re.fullmatch(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", how):
        return Contact(name, role, "email", how)
    if re.fullmatch(r"\+?[\d(][\d ()-]{5,}\d", how):
        return Contact(name, role, "phone", how)
    return None
