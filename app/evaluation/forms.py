"""Forms: the evaluation itself (built from the questions, which are data) and the L&D screens."""
from __future__ import annotations

from govuk_frontend_wtf import wtforms_widgets as widgets
from wtforms import (
    BooleanField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from app.evaluation.answering import field_name
from app.evaluation.models import CHOOSE_MANY, KIND_LABELS, TEXT, Question
from app.filters import FilterForm
from app.forms import BaseForm, GovDateField


class EvaluationAnswerForm(BaseForm):
    """The fields are added per question by build_answer_form; the service checks the answers."""

    submit = SubmitField("Send my evaluation", widget=widgets.GovSubmitInput())


def build_answer_form(questions: list[Question], **kwargs) -> EvaluationAnswerForm:
    """Make the form for a list of questions (no validators: the service decides what is valid)."""

    class _Form(EvaluationAnswerForm):
        pass

    for question in questions:
        label = question.text if question.required else f"{question.text} (optional)"
        common = {"label": label, "description": question.hint or ""}
        if question.kind == TEXT:
            field = TextAreaField(widget=widgets.GovTextArea(), **common)
        elif question.kind == CHOOSE_MANY:
            field = SelectMultipleField(choices=question.choices(), validate_choice=False,
                                        widget=widgets.GovCheckboxesInput(), **common)
        else:
            field = RadioField(choices=question.choices(), validate_choice=False,
                               widget=widgets.GovRadioInput(), **common)
        setattr(_Form, field_name(question), field)
    form = _Form(**kwargs)
    # The submit button goes last, after the questions.
    form._fields.move_to_end("submit")
    return form


def raw_answers(form: EvaluationAnswerForm, formdata) -> dict[str, list[str]]:
    """What was sent for each question, as lists of strings."""
    return {name: formdata.getlist(name) for name in form._fields if name.startswith("q")}


class QuestionEditForm(BaseForm):
    text = TextAreaField("Question", widget=widgets.GovTextArea(),
                         validators=[DataRequired("Enter the question"), Length(max=500)])
    hint = StringField("Hint (optional)", widget=widgets.GovTextInput(),
                       description="Shown under the question, for example “Select all that apply”.",
                       validators=[Optional(), Length(max=500)])
    kind = RadioField("Kind of answer", widget=widgets.GovRadioInput(), choices=list(KIND_LABELS.items()),
                      validators=[DataRequired("Choose what kind of answer the question takes")])
    required = BooleanField("People must answer this question", widget=widgets.GovCheckboxInput())
    key = StringField(
        "Report key (optional)", widget=widgets.GovTextInput(),
        description="Keep the same key when you reword a question, so reports follow the same "
                    "measure across versions, for example confidence_before. Left empty, one is "
                    "made from the question.",
        validators=[Optional(), Length(max=60)])
    low_label = StringField("For a scale: what 1 means", widget=widgets.GovTextInput(),
                            validators=[Optional(), Length(max=100)])
    high_label = StringField("For a scale: what 5 means", widget=widgets.GovTextInput(),
                             validators=[Optional(), Length(max=100)])
    options = TextAreaField("For choose one or choose any: the options, one on each line",
                            widget=widgets.GovTextArea(), validators=[Optional(), Length(max=3000)])
    submit = SubmitField("Save question", widget=widgets.GovSubmitInput())


class PublishForm(BaseForm):
    note = StringField("What changed in this version (optional)", widget=widgets.GovTextInput(),
                       validators=[Optional(), Length(max=500)])
    submit = SubmitField("Publish this version", widget=widgets.GovSubmitInput())


class CourseSettingsForm(BaseForm):
    manager_copy = BooleanField(
        "Send a copy of the second evaluation to the person’s line manager, asking for their comment",
        widget=widgets.GovCheckboxInput())
    certificate_needs_evaluation = BooleanField(
        "Release the certificate of attendance only once the first evaluation is sent",
        widget=widgets.GovCheckboxInput())
    submit = SubmitField("Save settings", widget=widgets.GovSubmitInput())


class ManagerCommentForm(BaseForm):
    comment = TextAreaField(
        "Your comment", widget=widgets.GovTextArea(),
        description="How has this person used the learning in their work? Do not include names or "
                    "details that could identify a child or family.",
        validators=[DataRequired("Enter your comment"), Length(max=5000)])
    submit = SubmitField("Send my comment", widget=widgets.GovSubmitInput())


class ReviewFilterForm(FilterForm):
    course_id = SelectField("Course", widget=widgets.GovSelect(), coerce=int, validators=[Optional()])
    sector_id = SelectField("Sector", widget=widgets.GovSelect(), coerce=int, validators=[Optional()])
    level_id = SelectField("Level", widget=widgets.GovSelect(), coerce=int, validators=[Optional()])
    date_from = GovDateField("Sessions from", message="Enter a real date, for example 1 4 2026",
                             description="For example, 1 4 2026", validators=[Optional()])
    date_to = GovDateField("Sessions to", message="Enter a real date, for example 31 3 2027",
                           description="For example, 31 3 2027", validators=[Optional()])
    submit = SubmitField("Show figures", widget=widgets.GovSubmitInput())
