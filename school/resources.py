"""The learner import: a CSV file from the office's spreadsheet → learners enrolled in a cohort.

The same pieces serve ``manage.py import_learners`` and the admin's import page: the
file is read by :class:`LearnerCSV`, each row becomes a learner through
:class:`LearnerResource`, and the whole file is one transaction — one bad row refuses
it all, with a French message per problem naming the line of the file.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections import Counter
from typing import Any, cast

import tablib
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from import_export import fields, resources, widgets
from import_export.formats import base_formats
from import_export.results import Result

from . import services
from .models import Cohort, Learner

# The file's columns, as the office's spreadsheet titles them, in the documented order.
COLUMNS = (
    "nom",
    "prenom",
    "date_naissance",
    "email",
    "telephone",
    "adresse",
    "code_postal",
    "commune",
    "ine",
    "promotion",
)
REQUIRED_COLUMNS = ("nom", "prenom", "date_naissance")


class ImportFileError(ValueError):
    """The file as a whole cannot be read as a learner list; the message says why."""


def describe_read_error(error: Exception) -> str:
    """Why a file could not be read, in words the office can act on."""
    if isinstance(error, ImportFileError):
        return str(error)
    if isinstance(error, UnicodeDecodeError):
        return _(
            "Le fichier n'est pas encodé en UTF-8 : dans le tableur, enregistrez-le "
            "au format « CSV UTF-8 »."
        )
    return _("Fichier illisible (%(error)s).") % {"error": error}


def find_cohort(reference: str) -> Cohort | None:
    """The cohort named ``reference``, or whose id it is."""
    reference = reference.strip()
    cohort = Cohort.objects.filter(name=reference).first()
    if cohort is None and reference.isdigit():
        cohort = Cohort.objects.filter(pk=int(reference)).first()
    return cohort


def _label(attribute: str) -> str:
    field = Learner._meta.get_field(attribute)
    return str(field.verbose_name) if isinstance(field, models.Field) else attribute


def _column_key(header: str) -> str:
    # "Prénom" or "Code postal" typed by hand still name the documented columns.
    plain = unicodedata.normalize("NFKD", header).encode("ascii", "ignore").decode()
    return "_".join(plain.casefold().split())


class LearnerDataset(tablib.Dataset):
    """The rows of the file, with the line of the file on which each one starts."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.line_numbers: list[int] = []


class LearnerCSV(base_formats.CSV):
    """The learner file as office spreadsheets save it.

    tablib's CSV reader expects ``,`` and drops blank lines, which would shift every
    line number we report; this reader takes ``;`` (French Excel) or ``,``, skips blank
    lines while keeping count of them, and checks the columns before any row is read.
    """

    def create_dataset(self, in_stream: bytes | str, **kwargs: Any) -> LearnerDataset:
        if isinstance(in_stream, bytes):
            in_stream = in_stream.decode(self.encoding or "utf-8-sig")
        # A BOM survives when the caller decoded as plain UTF-8.
        text = in_stream.removeprefix("\ufeff")
        header_line = text.partition("\n")[0]
        delimiter = ";" if header_line.count(";") > header_line.count(",") else ","
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)

        headers = [cell.strip() for cell in next(reader, [])]
        while headers and not headers[-1]:
            headers.pop()  # spreadsheets leave empty cells after the last title
        if not headers:
            raise ImportFileError(_("Le fichier est vide."))
        columns = [_column_key(header) for header in headers]
        _check_columns(headers, columns)

        dataset = LearnerDataset(headers=columns)
        width = len(columns)
        last_line = reader.line_num
        for cells in reader:
            line, last_line = last_line + 1, reader.line_num
            values = [cell.strip() for cell in cells]
            if not any(values):
                continue
            if any(values[width:]):
                raise ImportFileError(
                    _(
                        "Ligne %(line)d : %(count)d valeurs pour %(width)d colonnes ; "
                        "vérifiez le séparateur et les guillemets."
                    )
                    % {"line": line, "count": len(values), "width": width}
                )
            dataset.append((values + [""] * width)[:width])
            dataset.line_numbers.append(line)
        if not dataset:
            raise ImportFileError(_("Le fichier ne contient aucun apprenant."))
        return dataset


def _check_columns(headers: list[str], columns: list[str]) -> None:
    problems = []
    unknown = [
        header or "?"
        for header, column in zip(headers, columns, strict=True)
        if column not in COLUMNS
    ]
    if unknown:
        problems.append(
            _("Colonnes inconnues : %(unknown)s (colonnes possibles : %(known)s).")
            % {"unknown": ", ".join(unknown), "known": ", ".join(COLUMNS)}
        )
    doubled = sorted({column for column in columns if columns.count(column) > 1})
    if doubled:
        problems.append(_("Colonnes en double : %(columns)s.") % {"columns": ", ".join(doubled)})
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        problems.append(
            _("Colonnes obligatoires absentes : %(columns)s.") % {"columns": ", ".join(missing)}
        )
    if problems:
        raise ImportFileError(" ".join(problems))


class DayMonthYearWidget(widgets.DateWidget):
    """Dates as the office types them (31/12/2010), or as ISO (2010-12-31)."""

    def __init__(self) -> None:
        super().__init__(format="%d/%m/%Y")
        self.formats = ("%d/%m/%Y", "%Y-%m-%d")

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        try:
            return super().clean(value, row, **kwargs)
        except ValueError:
            raise ValueError(_("format JJ/MM/AAAA")) from None


class UpperCaseWidget(widgets.CharWidget):
    """INEs are printed in capitals; a spreadsheet typed in lower case means the same."""

    def clean(self, value: Any, row: Any = None, **kwargs: Any) -> Any:
        cleaned = super().clean(value, row, **kwargs)
        return cleaned.upper() if isinstance(cleaned, str) else cleaned


class LearnerImportResult(Result):
    """The library's result, told in the office's words."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.enrolled: Counter[str] = Counter()  # cohort name → learners enrolled in it

    def error_messages(self) -> list[str]:
        """Every reason to refuse the file, in the order of its lines."""
        by_line = [
            (row.number, message)
            for row in self.invalid_rows
            for messages in row.error_dict.values()
            for message in messages
        ]
        by_line += [
            (row.number, _("Ligne %(line)d : %(error)s") % {"line": row.number, "error": e.error})
            for row in self.error_rows
            for e in row.errors
        ]
        by_line.sort(key=lambda line_and_message: line_and_message[0])
        return [str(e.error) for e in self.base_errors] + [message for _line, message in by_line]

    def summary(self, *, dry_run: bool = False) -> str:
        count = sum(self.enrolled.values())
        if len(self.enrolled) == 1:
            where = _("dans « %(cohort)s »") % {"cohort": next(iter(self.enrolled))}
        else:
            where = _("dans %(cohorts)s") % {
                "cohorts": ", ".join(
                    _("« %(cohort)s » (%(count)d)") % {"count": n, "cohort": name}
                    for name, n in sorted(self.enrolled.items())
                )
            }
        if dry_run:
            template = ngettext(
                "%(count)d apprenant serait importé %(where)s.",
                "%(count)d apprenants seraient importés %(where)s.",
                count,
            )
        else:
            template = ngettext(
                "%(count)d apprenant importé %(where)s.",
                "%(count)d apprenants importés %(where)s.",
                count,
            )
        return template % {"count": count, "where": where}


class LearnerResource(resources.ModelResource):
    """One row of the file → one new learner, enrolled (active) in the row's cohort.

    The cohort is the row's ``promotion`` column, or ``default_cohort`` when that cell
    is empty or absent. Rows are checked by ``Learner.full_clean()`` (the model's fields
    and constraints) plus what only the file can tell: a missing name or date, an
    e-mail or INE repeated in the file, an unknown cohort.
    """

    last_name = fields.Field("last_name", "nom", widgets.CharWidget())
    first_name = fields.Field("first_name", "prenom", widgets.CharWidget())
    birth_date = fields.Field("birth_date", "date_naissance", DayMonthYearWidget())
    email = fields.Field("email", "email", widgets.CharWidget())
    phone = fields.Field("phone", "telephone", widgets.CharWidget())
    address = fields.Field("address", "adresse", widgets.CharWidget())
    postal_code = fields.Field("postal_code", "code_postal", widgets.CharWidget())
    city = fields.Field("city", "commune", widgets.CharWidget())
    ine = fields.Field("ine", "ine", UpperCaseWidget())

    class Meta:
        model = Learner
        fields = (
            "last_name",
            "first_name",
            "birth_date",
            "email",
            "phone",
            "address",
            "postal_code",
            "city",
            "ine",
        )
        # A row always creates a learner: the file never updates one.
        force_init_instance = True
        clean_model_instances = True
        # All-or-nothing rests on the transaction; see import_data().
        use_transactions = True

    def __init__(self, *, default_cohort: Cohort | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.default_cohort = default_cohort

    @classmethod
    def get_result_class(cls) -> type[LearnerImportResult]:
        return LearnerImportResult

    def import_data(self, dataset: tablib.Dataset, **kwargs: Any) -> LearnerImportResult:
        # One bad row refuses the whole file, even on the admin's confirmation step, where
        # the library would otherwise keep the good rows around a row that went bad since
        # the preview.
        kwargs.update(use_transactions=True, rollback_on_validation_errors=True)
        return super().import_data(dataset, **kwargs)

    def get_user_visible_fields(self) -> list[fields.Field]:
        # The admin lists the columns it reads; "promotion" is read too, though not stored
        # on the learner.
        return [*super().get_user_visible_fields(), fields.Field(column_name="promotion")]

    def before_import(self, dataset: tablib.Dataset, **kwargs: Any) -> None:
        self._line_numbers: list[int] = getattr(dataset, "line_numbers", [])
        self._line = 0
        self._first_line_of: dict[str, dict[str, int]] = {"email": {}, "ine": {}}
        self._enrolled: Counter[str] = Counter()
        # One query for every cohort the file names, rather than one per row.
        names = {row.get("promotion") for row in dataset.dict} - {None, ""}
        self._cohorts: dict[str, Cohort] = Cohort.objects.in_bulk(names, field_name="name")

    def before_import_row(self, row: dict[str, Any], **kwargs: Any) -> None:
        self._row = row
        self._line = self._line_of(kwargs["row_number"])

    def import_instance(self, instance: Learner, row: dict[str, Any], **kwargs: Any) -> None:
        errors: dict[str, str] = {}
        try:
            super().import_instance(instance, row, **kwargs)
        except ValidationError as unreadable:
            for attribute, reasons in unreadable.message_dict.items():
                errors[attribute] = _("%(label)s « %(value)s » invalide (%(reason)s).") % {
                    "label": _label(attribute),
                    "value": row[self.fields[attribute].column_name],
                    "reason": " ".join(reasons),
                }
        if not row.get("nom"):
            errors["last_name"] = _("nom manquant.")
        if not row.get("prenom"):
            errors["first_name"] = _("prénom manquant.")
        if not row.get("date_naissance"):
            errors["birth_date"] = _("date de naissance manquante.")
        for attribute in ("email", "ine"):
            value = row.get(self.fields[attribute].column_name)
            if not value:
                continue
            first_line = self._first_line_of[attribute].setdefault(value.casefold(), self._line)
            if first_line != self._line:
                errors[attribute] = _(
                    "%(label)s « %(value)s » déjà présent ligne %(line)d du fichier."
                ) % {
                    "label": _label(attribute),
                    "value": value,
                    "line": first_line,
                }
        cohort_error = self._cohort_error(row)
        if cohort_error:
            errors["promotion"] = cohort_error
        if errors:
            raise ValidationError(errors)

    def validate_instance(
        self,
        instance: Learner,
        import_validation_errors: dict[str, Any] | None = None,
        validate_unique: bool = True,
    ) -> None:
        own = import_validation_errors or {}
        try:
            super().validate_instance(instance, own, validate_unique)
        except ValidationError as error:
            raise self._row_error(error.message_dict, row_checks=own.keys()) from None

    def after_save_instance(self, instance: Learner, row: dict[str, Any], **kwargs: Any) -> None:
        # The enrolment and its first status change are written as everywhere else.
        cohort = cast(Cohort, self._cohort_of(row))  # import_instance refused rows without one
        try:
            services.enrolment_create(learner=instance, cohort=cohort, by=kwargs.get("user"))
        except ValidationError as error:
            raise ValidationError(
                {NON_FIELD_ERRORS: [self._at_line(message) for message in error.messages]}
            ) from None
        self._enrolled[cohort.name] += 1

    def after_import(
        self, dataset: tablib.Dataset, result: LearnerImportResult, **kwargs: Any
    ) -> None:
        super().after_import(dataset, result, **kwargs)
        # Number failed rows as the spreadsheet does, for the admin's error table.
        for row in [*result.invalid_rows, *result.error_rows]:
            row.number = self._line_of(row.number)
        result.enrolled = self._enrolled

    def _line_of(self, row_number: int) -> int:
        if row_number <= len(self._line_numbers):
            return self._line_numbers[row_number - 1]
        return row_number + 1  # a dataset not read from a file: line 1 is the header

    def _at_line(self, message: str) -> str:
        return _("Ligne %(line)d : %(message)s") % {"line": self._line, "message": message}

    def _cohort_of(self, row: dict[str, Any]) -> Cohort | None:
        name = row.get("promotion")
        return self._cohorts.get(name) if name else self.default_cohort

    def _cohort_error(self, row: dict[str, Any]) -> str:
        if self._cohort_of(row) is not None:
            return ""
        if row.get("promotion"):
            return _("promotion « %(name)s » inconnue.") % {"name": row["promotion"]}
        return _(
            "promotion manquante : remplissez la colonne « promotion » "
            "ou choisissez une promotion par défaut."
        )

    def _row_error(self, messages: dict[str, list[str]], *, row_checks: Any) -> ValidationError:
        """One message per problem, each naming the line, keyed by the file's column."""
        keyed: dict[str, list[str]] = {}
        for key, key_messages in messages.items():
            column = self.fields[key].column_name if key in self.fields else key
            if key in row_checks or key == NON_FIELD_ERRORS:
                texts = key_messages
            else:
                label = _label(key)
                value = self._row.get(column)
                texts = [
                    _("%(label)s « %(value)s » — %(message)s")
                    % {"label": label, "value": value, "message": message}
                    if value
                    else _("%(label)s — %(message)s") % {"label": label, "message": message}
                    for message in key_messages
                ]
            keyed[column] = [self._at_line(text) for text in texts]
        ordered = sorted(keyed, key=lambda c: COLUMNS.index(c) if c in COLUMNS else len(COLUMNS))
        return ValidationError({column: keyed[column] for column in ordered})
