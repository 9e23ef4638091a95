"""What POST /predict accepts: pydantic checks the shape, `request_rows` checks it against the run."""

from typing import Annotated

from fastapi import HTTPException
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

FIELDS = ("texts", "pairs", "rows")


def encodable(text: str) -> str:
    """JSON may escape a lone surrogate ("\\ud800"), which no tokenizer can read."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("not valid Unicode text (a lone surrogate escape such as \\ud800)") from None
    return text


Text = Annotated[str, AfterValidator(encodable)]


class PredictRequest(BaseModel):
    """Exactly one of the three; `texts` for one-column runs, `pairs` for two (a sentence-pair
    run), `rows` for any number of fields in the run's column order (table runs)."""

    model_config = ConfigDict(extra="forbid")
    texts: list[Text] | None = Field(default=None, min_length=1)
    pairs: list[tuple[Text, Text]] | None = Field(default=None, min_length=1)
    rows: list[list[Text]] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def one_field(self) -> "PredictRequest":
        given = [name for name in FIELDS if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f'send exactly one of "texts", "pairs" or "rows"; got {given or "none"}')
        return self


def request_rows(request: PredictRequest, columns: list[str], max_texts: int) -> list[list[str]]:
    """Each row as a list of fields in `columns` order. 413 over `max_texts` rows, 422 for rows
    of the wrong width (a pair run sent plain texts, say)."""
    if request.texts is not None:
        rows = [[text] for text in request.texts]
    else:
        rows = [list(row) for row in (request.pairs if request.pairs is not None else request.rows)]
    if len(rows) > max_texts:
        raise HTTPException(413, f"{len(rows)} rows in one request; this server takes at most {max_texts} "
                                 f"(serve.max_texts): split the request")
    wrong = next((index for index, row in enumerate(rows) if len(row) != len(columns)), None)
    if wrong is not None:
        raise HTTPException(422, f"row {wrong} has {len(rows[wrong])} field(s) but this run reads {len(columns)} "
                                 f"per row ({', '.join(columns)}); send {example_body(columns)}")
    return rows


def example_body(columns: list[str]) -> str:
    if len(columns) == 1:
        return '{"texts": ["...", ...]}'
    if len(columns) == 2:
        return '{"pairs": [["...", "..."], ...]}'
    return '{"rows": [[' + ", ".join('"..."' for _ in columns) + "], ...]}"
