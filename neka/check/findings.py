"""A finding: one problem, its count, and the config key or action that addresses it."""

from dataclasses import asdict, dataclass


@dataclass
class Finding:
    check: str  # the report.json section it comes from: duplicates, leakage, conflicts, labels, texts, tokens, columns
    count: int  # rows, labels or columns concerned
    message: str
    action: str  # the config key to change, or what to do to the file

    def line(self) -> str:
        return f"warning: {self.check}: {self.message} -> {self.action}"

    def as_dict(self) -> dict:
        return asdict(self)
