"""Writes of the placement path that span several rows: applying, accepting within an
offer's places, saving a placement under its rules, freezing a version of the agreement
for signature, signing, amending, cancelling.

Every rule that protects data is checked inside the transaction that writes, after
locking the rows a concurrent writer would change too (the offer for its places, the
learner for their periods), so a second process cannot race past it.
"""

from __future__ import annotations

import datetime
import logging
import secrets
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.db.models import Max
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from companies.models import Contact
from courses.models import Competency, CompetencyEvidence, EvidenceSource, Session
from courses.scheduling import local
from school import services as school_services
from school.db import save_checked
from school.models import Cohort, Enrolment, Learner, Role, User, role_of
from school.notifications import absolute_url, notify

from .models import (
    SIGNED_STATUSES,
    SIGNING_STATUSES,
    AgreementVersion,
    Application,
    ApplicationStatus,
    EvaluationLine,
    OfferStatus,
    Placement,
    PlacementOffer,
    PlacementStatus,
    ScheduleSlot,
    Signature,
    SignatureMethod,
    SignerRole,
    TutorEvaluation,
    VersionStatus,
    hash_token,
    working_time_problems,
)
from .validators import validate_scan

logger = logging.getLogger(__name__)

EVALUABLE = (PlacementStatus.IN_PROGRESS, PlacementStatus.COMPLETED)

CONVENTION = "convention_stage"
# Conflicting sessions named in a refusal; the rest are counted.
NAMED_CONFLICTS = 3


def _now() -> datetime.datetime:
    return timezone.now()


# ---------------------------------------------------------------------------------------
# Offers
# ---------------------------------------------------------------------------------------


@transaction.atomic
def offer_publish(offer: PlacementOffer) -> PlacementOffer:
    offer = PlacementOffer.objects.select_for_update().get(pk=offer.pk)
    if offer.status != OfferStatus.DRAFT:
        raise ValidationError(
            _("Seule une offre en brouillon se publie (celle-ci est « %(status)s »).")
            % {"status": offer.get_status_display()}
        )
    offer.status = OfferStatus.PUBLISHED
    offer.published_at = _now()
    offer.save(update_fields=["status", "published_at"])
    return offer


@transaction.atomic
def offer_close(offer: PlacementOffer) -> PlacementOffer:
    offer = PlacementOffer.objects.select_for_update().get(pk=offer.pk)
    offer.status = OfferStatus.CLOSED
    offer.save(update_fields=["status"])
    return offer


# ---------------------------------------------------------------------------------------
# Applications
# ---------------------------------------------------------------------------------------


def _partner_emails(offer: PlacementOffer) -> list[str]:
    return [
        email
        for email in offer.company.contacts.filter(user__isnull=False).values_list(
            "user__email", flat=True
        )
        if email
    ]


def _learner_emails(learner: Learner) -> list[str]:
    emails = [learner.email, learner.user.email if learner.user else ""]
    return [email for email in emails if email]


@transaction.atomic
def application_submit(
    *, offer: PlacementOffer, learner: Learner, message: str = ""
) -> Application:
    offer = PlacementOffer.objects.select_for_update().select_related("company").get(pk=offer.pk)
    if offer.status != OfferStatus.PUBLISHED:
        raise ValidationError(_("Cette offre n'est pas ouverte aux candidatures."))
    if offer.end_date < timezone.localdate():
        raise ValidationError(_("La période de cette offre est passée."))
    application = Application(offer=offer, learner=learner, message=message)
    application.full_clean()
    save_checked(application)
    notify(
        _partner_emails(offer),
        _("Nouvelle candidature : %(offer)s") % {"offer": offer.title},
        _(
            "%(learner)s a candidaté à votre offre « %(offer)s ».\n\n"
            "Message :\n%(message)s\n\nExaminez-la sur MétalTech : %(url)s"
        )
        % {
            "learner": learner,
            "offer": offer.title,
            "message": message or "—",
            "url": absolute_url(reverse("application-detail", args=[application.pk])),
        },
    )
    return application


def _locked_application(application: Application) -> Application:
    return (
        Application.objects.select_for_update(of=("self",))
        .select_related("offer__company", "learner__user")
        .get(pk=application.pk)
    )


@transaction.atomic
def application_withdraw(application: Application) -> Application:
    application = _locked_application(application)
    if not application.is_open:
        raise ValidationError(
            _("Seule une candidature en attente se retire (celle-ci est « %(status)s »).")
            % {"status": application.get_status_display()}
        )
    application.status = ApplicationStatus.WITHDRAWN
    application.save(update_fields=["status"])
    return application


@transaction.atomic
def application_review(application: Application, *, by: User) -> Application:
    application = _locked_application(application)
    if application.status != ApplicationStatus.SUBMITTED:
        raise ValidationError(_("Seule une candidature envoyée passe en examen."))
    application.status = ApplicationStatus.UNDER_REVIEW
    application.save(update_fields=["status"])
    return application


def _decided(application: Application, status: str, by: User) -> None:
    application.status = status
    application.decided_by = by
    application.decided_at = _now()


def _notify_decision(application: Application) -> None:
    notify(
        _learner_emails(application.learner),
        _("Votre candidature : %(offer)s") % {"offer": application.offer.title},
        _("Votre candidature à l'offre « %(offer)s » (%(company)s) est %(status)s.%(reason)s")
        % {
            "offer": application.offer.title,
            "company": application.offer.company,
            "status": application.get_status_display().lower(),
            "reason": f"\n\n{_('Motif :')} {application.rejection_reason}"
            if application.rejection_reason
            else "",
        },
    )


@transaction.atomic
def application_reject(application: Application, *, reason: str, by: User) -> Application:
    application = _locked_application(application)
    if not application.is_open:
        raise ValidationError(_("Cette candidature a déjà reçu une réponse."))
    if not reason.strip():
        raise ValidationError({"rejection_reason": _("Un refus doit être motivé.")})
    _decided(application, ApplicationStatus.REJECTED, by)
    application.rejection_reason = reason.strip()
    application.save()
    _notify_decision(application)
    return application


def offer_places_hold(offer: PlacementOffer, places: int) -> None:
    """Lock the offer's row, as ``application_accept`` does, and check ``places`` against
    the acceptances committed by then. Call it in the transaction that saves the offer:
    an acceptance committed after the form was validated must not leave more accepted
    applications than places."""
    if offer.pk is None:
        return
    PlacementOffer.objects.select_for_update().filter(pk=offer.pk).first()
    offer.check_places(places)


@transaction.atomic
def application_accept(application: Application, *, by: User) -> Placement:
    """Accept within the offer's places, and create the placement in draft.

    The offer's row is locked first: concurrent acceptances on one offer queue up, and
    each counts the places taken by those committed before it.
    """
    offer = PlacementOffer.objects.select_for_update().get(pk=application.offer_id)
    application = _locked_application(application)
    if not application.is_open:
        raise ValidationError(_("Cette candidature a déjà reçu une réponse."))
    if offer.status not in (OfferStatus.PUBLISHED, OfferStatus.FILLED):
        raise ValidationError(_("Cette offre n'est plus ouverte."))
    taken = offer.count_places_taken()
    if taken >= offer.places:
        raise ValidationError(
            ngettext(
                "L'offre n'a qu'%(places)s place, déjà pourvue.",
                "Les %(places)s places de l'offre sont déjà pourvues.",
                offer.places,
            )
            % {"places": offer.places}
        )
    learner = _lock_learner(application.learner)
    held = (
        Application.objects.holding()
        .filter(learner=learner, offer__start_date__lte=offer.end_date)
        .filter(offer__end_date__gte=offer.start_date)
        .select_related("offer__company")
        .first()
    )
    if held is not None:
        raise ValidationError(
            _("%(learner)s a déjà un stage accepté sur cette période : %(offer)s.")
            % {"learner": learner, "offer": held.offer}
        )
    _decided(application, ApplicationStatus.ACCEPTED, by)
    application.save()
    if taken + 1 == offer.places:
        offer.status = OfferStatus.FILLED
        offer.save(update_fields=["status"])
    company = offer.company
    contacts = Contact.objects.filter(company=company)
    tutors = list(contacts.tutors()[:2])
    signatories = list(contacts.signatories()[:2])
    placement = Placement(
        learner=learner,
        company=company,
        application=application,
        # The company's only tutor or signatory is the obvious one; else staff choose.
        tutor=tutors[0] if len(tutors) == 1 else None,
        signatory=signatories[0] if len(signatories) == 1 else None,
        referent=_head_trainer(learner, offer.start_date),
        start_date=offer.start_date,
        end_date=offer.end_date,
        address=f"{offer.address}, {offer.postal_code} {offer.city}",
        activities=offer.activities,
        created_by=by,
    )
    placement.full_clean()
    problems = _period_problems(placement)
    if problems:
        raise ValidationError(problems)
    placement.save()
    placement.competencies.set(offer.competencies.all())
    _notify_decision(application)
    return placement


def _head_trainer(learner: Learner, day: datetime.date) -> User | None:
    enrolment = (
        Enrolment.objects.active()
        .filter(learner=learner, start_date__lte=day)
        .select_related("cohort__head_trainer")
        .order_by("-start_date")
        .first()
    )
    return enrolment.cohort.head_trainer if enrolment else None


# ---------------------------------------------------------------------------------------
# Placements: the rules
# ---------------------------------------------------------------------------------------


def _lock_learner(learner: Learner) -> Learner:
    """Lock what a concurrent writer of this learner's time would lock: their cohorts
    (as the timetable's conflict check does, in the same order) then the learner."""
    cohorts = Enrolment.objects.filter(learner=learner).values("cohort")
    list(
        Cohort.objects.select_for_update(no_key=True)
        .filter(pk__in=cohorts)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    return Learner.objects.select_for_update(no_key=True).get(pk=learner.pk)


def _period_problems(placement: Placement) -> list[str]:
    """The period against the learner's other placements and their sessions."""
    problems = []
    others = (
        Placement.objects.current()
        .filter(learner=placement.learner_id)
        .overlapping(placement.start_date, placement.end_date)
        .exclude(pk=placement.pk)
        .select_related("company", "learner")
    )
    for other in others:
        problems.append(
            _("La période chevauche un autre stage : %(placement)s.") % {"placement": other}
        )
    sessions = list(
        Session.objects.attended_by(placement.learner_id)
        .active()
        .filter(
            start__gte=_midnight(placement.start_date),
            start__lt=_midnight(placement.end_date + datetime.timedelta(days=1)),
        )
        .select_related("course")
        .order_by("start")
    )
    if sessions:
        named = ", ".join(
            f"« {session.course.title} » du {local(session.start):%d/%m/%Y à %H:%M}"
            for session in sessions[:NAMED_CONFLICTS]
        )
        more = len(sessions) - NAMED_CONFLICTS
        problems.append(
            ngettext(
                "La période chevauche une séance de %(learner)s : %(sessions)s.",
                "La période chevauche %(count)s séances de %(learner)s : %(sessions)s.",
                len(sessions),
            )
            % {
                "learner": placement.learner,
                "count": len(sessions),
                "sessions": named + (f" (+ {more})" if more > 0 else ""),
            }
        )
    return problems


def _midnight(day: datetime.date) -> datetime.datetime:
    return datetime.datetime.combine(day, datetime.time(0), tzinfo=timezone.get_default_timezone())


def _people_problems(placement: Placement) -> list[str]:
    problems = []
    if placement.tutor and placement.tutor.company_id != placement.company_id:
        problems.append(_("Le tuteur doit être un contact de l'entreprise d'accueil."))
    if placement.tutor and not placement.tutor.is_tutor:
        problems.append(_("%(contact)s n'est pas déclaré tuteur.") % {"contact": placement.tutor})
    if placement.signatory and placement.signatory.company_id != placement.company_id:
        problems.append(_("Le signataire doit être un contact de l'entreprise d'accueil."))
    if placement.signatory and not placement.signatory.is_signatory:
        problems.append(
            _("%(contact)s n'est pas habilité à signer pour l'entreprise.")
            % {"contact": placement.signatory}
        )
    if placement.referent and placement.referent.role != Role.TRAINER:
        problems.append(_("L'enseignant référent doit être un formateur."))
    return problems


def placement_problems(placement: Placement, slots: Sequence[ScheduleSlot]) -> list[str]:
    """Every reason this placement cannot be written as it is, in French."""
    return [
        *_people_problems(placement),
        *working_time_problems(slots, minor=placement.learner_is_minor),
        *_period_problems(placement),
    ]


def _refuse_if_signed(placement: Placement) -> None:
    if placement.status in SIGNED_STATUSES:
        raise ValidationError(
            _("La convention est signée : toute modification passe par un avenant.")
        )
    if placement.status == PlacementStatus.CANCELLED:
        raise ValidationError(_("Ce stage est annulé."))


@transaction.atomic
def placement_save(
    placement: Placement,
    *,
    slots: Iterable[dict[str, Any]],
    competencies: Iterable[Competency] | None = None,
    by: User | None = None,
) -> Placement:
    """Create or change a placement with its weekly schedule, under every rule.

    A version waiting for signatures is voided by any change, with its signatures: the
    signers signed another text. A signed agreement changes through ``placement_amend``.
    """
    if placement.pk:
        stored = Placement.objects.select_for_update().get(pk=placement.pk)
        _refuse_if_signed(stored)
        placement.status = stored.status
    else:
        placement.created_by = by
    _lock_learner(placement.learner)
    placement.full_clean(exclude=["status"])
    new_slots = [ScheduleSlot(placement=placement, **slot) for slot in slots]
    errors = []
    for slot in new_slots:
        try:
            slot.full_clean(exclude=["placement"])
        except ValidationError as error:
            errors.extend(error.messages)
    if errors or (errors := placement_problems(placement, new_slots)):
        raise ValidationError(errors)
    if placement.status in SIGNING_STATUSES:
        _void_version(placement)
        placement.status = PlacementStatus.DRAFT
    placement.save()
    placement.slots.all().delete()
    ScheduleSlot.objects.bulk_create(new_slots)
    if competencies is not None:
        placement.competencies.set(competencies)
    return placement


def _void_version(placement: Placement) -> None:
    now = _now()
    for version in placement.versions.filter(status=VersionStatus.TO_SIGN).select_for_update():
        version.status = VersionStatus.VOID
        version.voided_at = now
        version.save(update_fields=["status", "voided_at"])
        # The e-mailed links die with the version.
        version.signatures.exclude(token_hash="").update(token_hash="")


@transaction.atomic
def placement_cancel(placement: Placement, *, reason: str, by: User) -> Placement:
    placement = Placement.objects.select_for_update().get(pk=placement.pk)
    if placement.status in (PlacementStatus.COMPLETED, PlacementStatus.EVALUATED):
        raise ValidationError(_("Un stage terminé ne s'annule pas."))
    if placement.status == PlacementStatus.CANCELLED:
        raise ValidationError(_("Ce stage est déjà annulé."))
    if not reason.strip():
        raise ValidationError({"cancellation_reason": _("Une annulation doit être motivée.")})
    _void_version(placement)
    _close_evaluation(placement)
    placement.status = PlacementStatus.CANCELLED
    placement.cancellation_reason = reason.strip()
    placement.save(update_fields=["status", "cancellation_reason", "updated_at"])
    # The place goes back to the offer (``holding`` no longer counts this application).
    if placement.application_id:
        PlacementOffer.objects.filter(
            applications=placement.application_id, status=OfferStatus.FILLED
        ).update(status=OfferStatus.PUBLISHED)
    return placement


def _close_evaluation(placement: Placement) -> None:
    """An open tutor's link dies with a cancelled or reopened placement."""
    TutorEvaluation.objects.filter(
        placement=placement, submitted_at__isnull=True, revoked_at__isnull=True
    ).update(revoked_at=_now(), token_hash="")


@transaction.atomic
def placement_amend(placement: Placement, *, by: User) -> Placement:
    """Open a signed agreement for an amendment (avenant): the placement goes back to
    draft; the signed version stays what was signed until the amendment is."""
    placement = Placement.objects.select_for_update().get(pk=placement.pk)
    if placement.status not in (PlacementStatus.SIGNED, PlacementStatus.IN_PROGRESS):
        raise ValidationError(
            _("Seule une convention signée, stage à venir ou en cours, se modifie par avenant.")
        )
    _close_evaluation(placement)
    placement.status = PlacementStatus.DRAFT
    placement.save(update_fields=["status", "updated_at"])
    return placement


# ---------------------------------------------------------------------------------------
# Versions and signatures
# ---------------------------------------------------------------------------------------


def _missing(placement: Placement, slots: Sequence[ScheduleSlot]) -> list[str]:
    missing = []
    if placement.tutor is None:
        missing.append(_("le tuteur"))
    if placement.signatory is None:
        missing.append(_("le signataire pour l'entreprise"))
    if placement.referent is None:
        missing.append(_("l'enseignant référent"))
    if not slots:
        missing.append(_("les horaires"))
    if not placement.activities.strip():
        missing.append(_("les activités confiées"))
    return missing


def signers_problems(placement: Placement) -> list[str]:
    if placement.learner_is_minor and not placement.learner.guardians.exists():
        return [
            _(
                "%(learner)s est mineur au début du stage : un responsable légal doit signer, "
                "et aucun n'est enregistré."
            )
            % {"learner": placement.learner}
        ]
    return []


@transaction.atomic
def placement_freeze(placement: Placement, *, by: User) -> AgreementVersion:
    """« Prête à signer »: the agreement as it stands becomes a numbered PDF in the
    register, and each signer gets a block to sign (and a link by e-mail)."""
    placement = (
        Placement.objects.select_for_update(of=("self",))
        .select_related("learner", "company", "tutor__user", "signatory__user", "referent")
        .get(pk=placement.pk)
    )
    if placement.status != PlacementStatus.DRAFT:
        raise ValidationError(
            _("Seul un stage en brouillon devient prêt à signer (celui-ci est « %(status)s »).")
            % {"status": placement.get_status_display()}
        )
    _lock_learner(placement.learner)
    slots = list(placement.slots.all())
    if missing := _missing(placement, slots):
        raise ValidationError(
            _("Avant signature, il manque : %(missing)s.") % {"missing": ", ".join(missing)}
        )
    if problems := placement_problems(placement, slots) + signers_problems(placement):
        raise ValidationError(problems)
    number = (placement.versions.aggregate(last=Max("number"))["last"] or 0) + 1
    is_amendment = placement.versions.filter(status=VersionStatus.SIGNED).exists()
    document = school_services.document_issue(
        kind=CONVENTION, subject=placement, by=by, version=number, amendment=is_amendment
    )
    version = AgreementVersion.objects.create(
        placement=placement,
        number=number,
        is_amendment=is_amendment,
        document=document,
        created_by=by,
    )
    signers = placement.signers()
    for signer in signers:
        signer.version = version
    Signature.objects.bulk_create(signers)
    placement.status = PlacementStatus.READY_TO_SIGN
    placement.save(update_fields=["status", "updated_at"])
    for signer in signers:
        if signer.email:
            _send_link(signer)
    return version


def _send_link(signature: Signature) -> None:
    """A new single-use link for this block: only its hash is kept."""
    token = secrets.token_urlsafe(32)
    signature.token_hash = hash_token(token)
    signature.link_sent_at = _now()
    signature.link_expires_at = signature.link_sent_at + datetime.timedelta(
        days=settings.SIGNING_LINK_DAYS
    )
    signature.save(update_fields=["token_hash", "link_sent_at", "link_expires_at"])
    placement = signature.version.placement
    notify(
        [signature.email],
        _("Convention de stage à signer : %(learner)s") % {"learner": placement.learner},
        _(
            "Bonjour,\n\nLa convention de stage de %(learner)s chez %(company)s "
            "(du %(start)s au %(end)s) attend votre signature, en qualité de %(role)s.\n\n"
            "Lisez-la et signez-la ici (lien personnel, à usage unique, valable jusqu'au "
            "%(expires)s) :\n%(url)s\n"
        )
        % {
            "learner": placement.learner,
            "company": placement.company,
            "start": f"{placement.start_date:%d/%m/%Y}",
            "end": f"{placement.end_date:%d/%m/%Y}",
            "role": signature.get_role_display().lower(),
            "expires": f"{local(signature.link_expires_at):%d/%m/%Y}",
            "url": absolute_url(reverse("sign-link", args=[token])),
        },
    )


@transaction.atomic
def signature_resend_link(signature: Signature) -> Signature:
    signature = _locked_signature(signature)
    if not signature.email:
        raise ValidationError(_("Ce signataire n'a pas d'adresse e-mail."))
    _send_link(signature)
    return signature


def _locked_signature(signature: Signature) -> Signature:
    """The version, then the signature, locked: two signers finishing at once settle the
    version one after the other."""
    # The placement first, as every other writer of it does (then its versions).
    Placement.objects.select_for_update(of=("self",)).filter(versions=signature.version_id).first()
    version = AgreementVersion.objects.select_for_update().get(pk=signature.version_id)
    locked = (
        Signature.objects.select_for_update(of=("self",))
        .select_related("version__placement__learner", "version__document")
        .get(pk=signature.pk)
    )
    if version.status != VersionStatus.TO_SIGN:
        raise ValidationError(_("Cette version de la convention n'est plus à signer."))
    if locked.is_signed:
        raise ValidationError(_("Ce bloc de signature est déjà signé."))
    return locked


def may_sign(signature: Signature, user: User) -> bool:
    """Whether this account signs this block itself (the school head's, any staff)."""
    if signature.role == SignerRole.SCHOOL_HEAD:
        return role_of(user) == Role.STAFF
    return signature.user_id is not None and signature.user_id == user.pk


@transaction.atomic
def signature_sign(
    signature: Signature, *, by: User | None, ip_address: str | None, user_agent: str
) -> Signature:
    """An electronic signature: from the signer's account (``by``) or their link."""
    signature = _locked_signature(signature)
    if by is not None and not may_sign(signature, by):
        raise ValidationError(_("Ce bloc de signature n'est pas le vôtre."))
    signature.method = SignatureMethod.ELECTRONIC
    signature.signed_at = _now()
    signature.signed_by = by
    signature.ip_address = ip_address
    signature.user_agent = user_agent[:500]
    signature.pdf_sha256 = signature.version.document.sha256
    signature.token_hash = ""  # single use: the link dies with the signature
    signature.save()
    _settle(signature.version)
    return signature


def signature_for_link(token: str) -> Signature | None:
    """The block an e-mailed link signs, while it may: else None (the page's 404)."""
    return (
        Signature.objects.filter(
            token_hash=hash_token(token),
            signed_at__isnull=True,
            link_expires_at__gt=_now(),
            version__status=VersionStatus.TO_SIGN,
        )
        .select_related("version__placement__learner", "version__placement__company")
        .select_related("version__document")
        .first()
    )


@transaction.atomic
def signature_sign_with_link(token: str, *, ip_address: str | None, user_agent: str) -> Signature:
    signature = signature_for_link(token)
    if signature is None:
        raise ValidationError(_("Ce lien de signature n'est plus valable."))
    # Checked again once the block is locked: a link sent anew (another token) or run out
    # between the lookup and the lock no longer signs.
    locked = _locked_signature(signature)
    if locked.token_hash != hash_token(token) or not (
        locked.link_expires_at and locked.link_expires_at > _now()
    ):
        raise ValidationError(_("Ce lien de signature n'est plus valable."))
    return signature_sign(locked, by=None, ip_address=ip_address, user_agent=user_agent)


@transaction.atomic
def signature_record_paper(signature: Signature, *, scan: UploadedFile, by: User) -> Signature:
    """Staff record a signature made on paper by uploading the signed copy."""
    validate_scan(scan)
    signature = _locked_signature(signature)
    signature.method = SignatureMethod.PAPER
    signature.signed_at = _now()
    signature.signed_by = by
    signature.pdf_sha256 = signature.version.document.sha256
    signature.token_hash = ""
    signature.scan.save(scan.name or "signature.pdf", scan, save=False)
    signature.save()
    _settle(signature.version)
    return signature


def _settle(version: AgreementVersion) -> None:
    placement = (
        Placement.objects.select_for_update().select_related("learner").get(pk=version.placement_id)
    )
    signatures = list(version.signatures.all())
    if all(signature.is_signed for signature in signatures):
        version.status = VersionStatus.SIGNED
        version.signed_at = _now()
        version.save(update_fields=["status", "signed_at"])
        placement.status = PlacementStatus.SIGNED
        notify(
            [signature.email for signature in signatures],
            _("Convention de stage signée : %(learner)s") % {"learner": placement.learner},
            _(
                "La convention de stage de %(learner)s (version %(number)s) est signée par "
                "toutes les parties. Elle est disponible sur MétalTech."
            )
            % {"learner": placement.learner, "number": version.number},
        )
    else:
        placement.status = PlacementStatus.PARTIALLY_SIGNED
    placement.save(update_fields=["status", "updated_at"])


@transaction.atomic
def placements_advance(today: datetime.date | None = None) -> int:
    """Signed placements start and end with their dates (a daily command): signed →
    in progress on the first day, signed or in progress → completed after the last.
    Saved one by one, so that each change has its line in the placement's history."""
    today = today or timezone.localdate()
    moving = Placement.objects.select_for_update().filter(
        status__in=[PlacementStatus.SIGNED, PlacementStatus.IN_PROGRESS], start_date__lte=today
    )
    moved = 0
    for placement in moving:
        status = (
            PlacementStatus.COMPLETED if placement.end_date < today else PlacementStatus.IN_PROGRESS
        )
        if status != placement.status:
            placement.status = status
            placement.save(update_fields=["status", "updated_at"])
            moved += 1
            if status == PlacementStatus.COMPLETED:
                _request_evaluation_if_possible(placement)
    return moved


def _request_evaluation_if_possible(placement: Placement) -> None:
    """At the end of a placement its tutor is asked to evaluate it; a tutor without an
    address is left to the staff (the placement page says the evaluation is missing)."""
    if TutorEvaluation.objects.filter(placement=placement).exists():
        return
    try:
        with transaction.atomic():
            evaluation_request(placement)
    except ValidationError:
        logger.info("No evaluation link sent for placement %s", placement.pk)


# ---------------------------------------------------------------------------------------
# The tutor's evaluation
# ---------------------------------------------------------------------------------------


@transaction.atomic
def evaluation_request(placement: Placement) -> TutorEvaluation:
    """Send the tutor a fresh single-use link (a new one revokes the previous)."""
    placement = (
        Placement.objects.select_for_update(of=("self",))
        .select_related("tutor__user", "learner", "company")
        .get(pk=placement.pk)
    )
    if placement.status not in EVALUABLE:
        raise ValidationError(
            _("Le tuteur évalue un stage en cours ou terminé (celui-ci est « %(status)s »).")
            % {"status": placement.get_status_display()}
        )
    tutor = placement.tutor
    email = tutor.mail_address if tutor else ""
    if not email:
        raise ValidationError(_("Le tuteur n'a pas d'adresse e-mail : impossible de lui écrire."))
    token = secrets.token_urlsafe(32)
    now = _now()
    evaluation, _created = TutorEvaluation.objects.update_or_create(
        placement=placement,
        defaults={
            "token_hash": hash_token(token),
            "sent_to": email,
            "sent_at": now,
            "expires_at": now + datetime.timedelta(days=settings.EVALUATION_LINK_DAYS),
            "revoked_at": None,
            "reminders_sent": 0,
        },
    )
    if evaluation.submitted_at is not None:
        raise ValidationError(_("Le tuteur a déjà évalué ce stage."))
    _send_evaluation_link(evaluation, token)
    return evaluation


def _send_evaluation_link(
    evaluation: TutorEvaluation, token: str, *, reminder: bool = False
) -> None:
    placement = evaluation.placement
    subject = (
        _("Rappel : évaluation du stage de %(learner)s")
        if reminder
        else _("Évaluation du stage de %(learner)s")
    ) % {"learner": placement.learner}
    notify(
        [evaluation.sent_to],
        subject,
        _(
            "Bonjour,\n\nLe stage de %(learner)s chez %(company)s (du %(start)s au %(end)s) "
            "s'achève. Merci d'évaluer ses compétences en quelques minutes, depuis votre "
            "téléphone si vous le souhaitez (lien personnel, à usage unique, valable "
            "jusqu'au %(expires)s) :\n%(url)s\n"
        )
        % {
            "learner": placement.learner,
            "company": placement.company,
            "start": f"{placement.start_date:%d/%m/%Y}",
            "end": f"{placement.end_date:%d/%m/%Y}",
            "expires": f"{local(evaluation.expires_at):%d/%m/%Y}",
            "url": absolute_url(reverse("evaluation-link", args=[token])),
        },
    )


def evaluation_for_link(token: str) -> TutorEvaluation | None:
    """The evaluation an e-mailed link opens, while it may: else None (the page's 404)."""
    return (
        TutorEvaluation.objects.filter(
            token_hash=hash_token(token),
            submitted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=_now(),
        )
        .select_related("placement__learner", "placement__company", "placement__tutor")
        .first()
    )


@transaction.atomic
def evaluation_revoke(evaluation: TutorEvaluation) -> TutorEvaluation:
    evaluation = TutorEvaluation.objects.select_for_update().get(pk=evaluation.pk)
    if evaluation.submitted_at is not None:
        raise ValidationError(_("Cette évaluation est déjà remplie."))
    evaluation.revoked_at = _now()
    evaluation.token_hash = ""
    evaluation.save(update_fields=["revoked_at", "token_hash"])
    return evaluation


@transaction.atomic
def evaluation_record(
    evaluation: TutorEvaluation,
    *,
    levels: dict[int, str],
    tutor_name: str,
    absence_days: int = 0,
    attendance: str = "",
    comments: str = "",
) -> TutorEvaluation:
    """Record the tutor's grid once (from the e-mailed link or the tutor's partner
    account): each level becomes competency evidence for the learner, and the placement
    is « évalué ». The link dies with it."""
    placement = Placement.objects.select_for_update().get(pk=evaluation.placement_id)
    evaluation = TutorEvaluation.objects.select_for_update().get(pk=evaluation.pk)
    if not evaluation.is_open or placement.status not in EVALUABLE:
        # Filled, revoked or expired (maybe while we waited), or the placement was
        # cancelled or reopened for an amendment meanwhile.
        raise ValidationError(_("Cette évaluation n'est plus ouverte."))
    expected = set(placement.competencies.values_list("pk", flat=True))
    if set(levels) != expected:
        raise ValidationError(_("Évaluez chaque compétence de l'annexe pédagogique."))
    if not tutor_name.strip():
        raise ValidationError({"tutor_name": _("Indiquez votre nom.")})
    evaluation.tutor_name = tutor_name.strip()
    evaluation.absence_days = absence_days
    evaluation.attendance = attendance
    evaluation.comments = comments
    evaluation.submitted_at = _now()
    evaluation.token_hash = ""
    evaluation.full_clean()
    evaluation.save()
    EvaluationLine.objects.bulk_create(
        EvaluationLine(evaluation=evaluation, competency_id=competency, level=level)
        for competency, level in levels.items()
    )
    reference = _("Stage chez %(company)s du %(start)s au %(end)s") % {
        "company": placement.company,
        "start": f"{placement.start_date:%d/%m/%Y}",
        "end": f"{placement.end_date:%d/%m/%Y}",
    }
    CompetencyEvidence.objects.bulk_create(
        CompetencyEvidence(
            learner_id=placement.learner_id,
            competency_id=competency,
            level=level,
            source=EvidenceSource.PLACEMENT,
            reference=reference,
            assessor_name=evaluation.tutor_name,
            assessor=placement.tutor.user if placement.tutor else None,
            date=timezone.localdate(),
        )
        for competency, level in levels.items()
    )
    Placement.objects.filter(pk=placement.pk).update(
        status=PlacementStatus.EVALUATED, updated_at=_now()
    )
    return evaluation


def evaluation_reminders(now: datetime.datetime | None = None) -> int:
    """Remind tutors who have not filled their evaluation, 3 then 10 days after it was
    sent (a daily command). Each reminder carries a fresh link. The number sent."""
    now = now or _now()
    sent = 0
    for rank, days in enumerate(settings.EVALUATION_REMINDER_DAYS, start=1):
        due = TutorEvaluation.objects.filter(
            submitted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=now,
            reminders_sent=rank - 1,
            sent_at__lte=now - datetime.timedelta(days=days),
        ).select_related("placement__learner", "placement__company")
        for pk in list(due.values_list("pk", flat=True)):
            with transaction.atomic():
                # Locked and read again: submitted, revoked or reminded (by another run of
                # the command) since the list was read, it gets no reminder.
                evaluation = due.select_for_update(of=("self",)).filter(pk=pk).first()
                if evaluation is None:
                    continue
                token = secrets.token_urlsafe(32)
                evaluation.token_hash = hash_token(token)
                evaluation.reminders_sent = rank
                evaluation.save(update_fields=["token_hash", "reminders_sent"])
                _send_evaluation_link(evaluation, token, reminder=True)
            sent += 1
    return sent
