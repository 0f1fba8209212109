from django.apps import AppConfig


class DocumentsConfig(AppConfig):
    name = "tiendo.documents"
    label = "documents"
    verbose_name = "Văn bản báo cáo"

    def ready(self) -> None:
        # documents sits above reporting: reporting cannot call us, so a new letter is
        # followed here, by its post_save (every letter gets a default report definition).
        from django.db.models.signals import post_save, pre_save  # noqa: PLC0415

        from tiendo.documents import packages  # noqa: PLC0415
        from tiendo.documents.models import ReportDefinition  # noqa: PLC0415
        from tiendo.programmes.metadata import register_section  # noqa: PLC0415
        from tiendo.reporting.models import ReportRequest  # noqa: PLC0415

        post_save.connect(
            _letter_saved, sender=ReportRequest, dispatch_uid="documents.letter_definition"
        )
        pre_save.connect(
            _definition_saving,
            sender=ReportDefinition,
            dispatch_uid="documents.definition_gives_way",
        )
        register_section("reports", packages.check_reports, packages.apply_reports)


def _letter_saved(sender, instance, created, raw=False, **kwargs) -> None:
    if created and not raw:
        from tiendo.documents.services import letter_definition  # noqa: PLC0415

        letter_definition(instance)


def _definition_saving(sender, instance, raw=False, **kwargs) -> None:
    if not raw:
        from tiendo.documents.services import give_way_to  # noqa: PLC0415

        give_way_to(instance)
