"""The submission form reads and shows a figure's qualifier in its box ("khoảng 12")."""

from django.urls import reverse

from tiendo.data.models import DataValue, DataValueChange
from tiendo.reporting.models import Submission


def test_a_word_typed_in_the_submission_form_is_kept_and_shown_back(client, cycle):
    client.force_login(cycle.commune_officer)
    answer = reverse("reporting:answer", args=[cycle.request.pk, cycle.tree.c1.pk])
    line_h = cycle.form.lines.get(indicator=cycle.households)
    form = {f"section-{cycle.sections[0].pk}": "Đã hỗ trợ.", "action": "save"}
    form[f"v-{line_h.pk}-"] = "khoảng 12"
    response = client.post(answer, form)
    assert response.status_code == 302
    stored = DataValue.objects.get(indicator=cycle.households)
    assert (stored.value, stored.qualifier) == (12, "about")
    sub = Submission.objects.get(unit=cycle.tree.c1)
    page = client.get(reverse("reporting:submission", args=[sub.pk])).content.decode()
    assert 'value="khoảng 12"' in page
    # sent back as shown: nothing changes; the word erased: the figure is exact again
    version = page.split(f'name="ver-{line_h.pk}-" value="')[1].split('"')[0]
    url = reverse("reporting:submission", args=[sub.pk])
    again = {**form, f"v-{line_h.pk}-": "khoảng 12", f"ver-{line_h.pk}-": version}
    client.post(url, again)
    assert DataValueChange.objects.filter(indicator=cycle.households).count() == 1
    client.post(url, {**again, f"v-{line_h.pk}-": "12"})
    assert DataValue.objects.get(indicator=cycle.households).qualifier == ""
