"""Partner companies of the cluster and the people MétalTech deals with there."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from school.models import AnyUser, Role, User, role_of

from .validators import french_vat_number, validate_siret

if TYPE_CHECKING:
    from django.db.models.fields.related_descriptors import RelatedManager


class Sector(models.TextChoices):
    FORGE = "forge", _("Forge")
    FOUNDRY = "foundry", _("Fonderie")
    TOOLING = "tooling", _("Outillage")
    MACHINING = "machining", _("Usinage")
    SURFACE_TREATMENT = "surface_treatment", _("Traitement de surface")
    HEAT_TREATMENT = "heat_treatment", _("Traitement thermique")
    ADDITIVE_MANUFACTURING = "additive_manufacturing", _("Fabrication additive")
    POLISHING = "polishing", _("Polissage")
    LASER_MARKING = "laser_marking", _("Marquage laser")
    MEDICAL_DEVICES = "medical_devices", _("Dispositifs médicaux")
    OTHER = "other", _("Autre")


class Cluster(models.Model):
    """An industrial network a company belongs to (pôle, grappe, association)."""

    name = models.CharField(_("nom"), max_length=150, unique=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        verbose_name = _("réseau d'entreprises")
        verbose_name_plural = _("réseaux d'entreprises")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class CompanyQuerySet(models.QuerySet["Company"]):
    def visible_to(self, user: AnyUser) -> CompanyQuerySet:
        role = role_of(user)
        if role in (Role.STAFF, Role.TRAINER):
            return self.all()
        if role == Role.PARTNER and user.is_authenticated:
            # A subquery, not a join: counts annotated on the result stay whole.
            return self.filter(pk__in=Contact.objects.filter(user=user).values("company"))
        return self.none()

    def sole(self) -> Company | None:
        """The only company of the set, if it holds exactly one (a partner's own)."""
        rows = list(self[:2])
        return rows[0] if len(rows) == 1 else None


class Company(models.Model):
    legal_name = models.CharField(_("raison sociale"), max_length=200)
    siret = models.CharField(
        _("SIRET"),
        max_length=14,
        unique=True,
        validators=[validate_siret],
        error_messages={"unique": _("Une entreprise avec ce SIRET existe déjà.")},
    )
    sector = models.CharField(_("secteur"), max_length=32, choices=Sector.choices)
    address = models.CharField(_("adresse"), max_length=255)
    postal_code = models.CharField(_("code postal"), max_length=10)
    city = models.CharField(_("commune"), max_length=120)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    website = models.URLField(_("site web"), blank=True)
    clusters = models.ManyToManyField(
        Cluster, blank=True, related_name="companies", verbose_name=_("réseaux")
    )
    created_at = models.DateTimeField(_("créée le"), auto_now_add=True)

    objects = CompanyQuerySet.as_manager()

    if TYPE_CHECKING:
        contacts: RelatedManager[Contact]

    class Meta:
        verbose_name = _("entreprise")
        verbose_name_plural = _("entreprises")
        ordering = ["legal_name"]
        constraints = [
            # The Luhn key stays in Python; the database still refuses a malformed SIRET
            # written by any path that skipped validation.
            models.CheckConstraint(
                condition=Q(siret__regex=r"^[0-9]{14}$"),
                name="company_siret_fourteen_digits",
                violation_error_message=_("Le SIRET doit comporter exactement 14 chiffres."),
            )
        ]

    def __str__(self) -> str:
        return self.legal_name

    @property
    def siren(self) -> str:
        return self.siret[:9]

    @property
    def vat_number(self) -> str:
        return french_vat_number(self.siren)


class ContactQuerySet(models.QuerySet["Contact"]):
    def visible_to(self, user: AnyUser) -> ContactQuerySet:
        return self.filter(company__in=Company.objects.visible_to(user))

    def tutors(self) -> ContactQuerySet:
        return self.filter(is_tutor=True)

    def signatories(self) -> ContactQuerySet:
        return self.filter(is_signatory=True)


class Contact(models.Model):
    """A person at a company: tutor of interns, authorised signatory, or both."""

    company = models.ForeignKey(
        Company, on_delete=models.CASCADE, related_name="contacts", verbose_name=_("entreprise")
    )
    first_name = models.CharField(_("prénom"), max_length=150)
    last_name = models.CharField(_("nom"), max_length=150)
    job_title = models.CharField(_("fonction"), max_length=150, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("téléphone"), max_length=30, blank=True)
    is_tutor = models.BooleanField(_("tuteur"), default=False)
    is_signatory = models.BooleanField(
        _("signataire habilité"),
        default=False,
        help_text=_("Peut signer les conventions au nom de l'entreprise."),
    )
    user = models.OneToOneField(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="contact",
        limit_choices_to={"role": Role.PARTNER},
        verbose_name=_("compte partenaire"),
    )

    objects = ContactQuerySet.as_manager()

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        ordering = ["company", "last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "email"],
                condition=~Q(email=""),
                name="contact_email_unique_per_company",
                violation_error_message=_("Cette entreprise a déjà un contact avec cet e-mail."),
            )
        ]

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.company})"

    @property
    def mail_address(self) -> str:
        """Where the school writes to them: their account's address, else the one on file."""
        return (self.user.email if self.user else self.email) or ""

    change_refusal = _(
        "Un signataire habilité est vérifié par l'école : demandez au secrétariat de le modifier."
    )

    def can_be_changed_by(self, user: AnyUser) -> bool:
        """Who signs for the company was checked by the staff; a partner could otherwise
        rename the verified signatory into someone else."""
        return role_of(user) == Role.STAFF or not self.is_signatory
