"""The default question sets (version 1 of each stage), as agreed from the pan-London minimum set.

Reconstructed from ../shared/DOMAIN.md "Two-stage evaluation". They are loaded by
services.ensure_default_question_sets(), which the job runner and `flask demo load` call; after
that the L&D team edits them as new versions in the service, not here.
"""
from app.evaluation.models import CHOOSE_MANY, SCALE, TEXT, YES_NO_NOT_YET

KNOWLEDGE = {"low_label": "Very little", "high_label": "A great deal"}
CONFIDENCE = {"low_label": "Not at all confident", "high_label": "Very confident"}
QUALITY = {"low_label": "Poor", "high_label": "Excellent"}
AGREEMENT = {"low_label": "Strongly disagree", "high_label": "Strongly agree"}

NO_NAMES_HINT = "Do not include names or details that could identify a child or family."

STAGE_ONE_QUESTIONS = [
    dict(key="knowledge_before", kind=SCALE, required=True,
         text="How much did you know about the topic before the course?", **KNOWLEDGE),
    dict(key="knowledge_after", kind=SCALE, required=True,
         text="How much do you know about the topic now, after the course?", **KNOWLEDGE),
    dict(key="confidence_before", kind=SCALE, required=True,
         text="How confident were you in this area of your work before the course?", **CONFIDENCE),
    dict(key="confidence_after", kind=SCALE, required=True,
         text="How confident are you in this area of your work now, after the course?", **CONFIDENCE),
    dict(key="outcomes_met", kind=SCALE, required=True,
         text="The course met its learning outcomes", low_label="Not at all", high_label="Fully"),
    dict(key="content", kind=SCALE, required=True, text="The content of the course", **QUALITY),
    dict(key="trainer", kind=SCALE, required=True, text="The trainer or trainers", **QUALITY),
    dict(key="materials", kind=SCALE, required=True, text="The course materials", **QUALITY),
    dict(key="venue", kind=SCALE, required=True, text="The venue or online platform", **QUALITY),
    dict(key="relevance", kind=SCALE, required=True, text="How relevant the course was to your role",
         low_label="Not relevant", high_label="Highly relevant"),
    dict(key="multi_agency", kind=SCALE, required=True,
         text="Learning alongside other agencies helped me understand their roles", **AGREEMENT),
    dict(key="apply_plan", kind=TEXT, required=True,
         text="How will you apply this learning? What will you do differently?", hint=NO_NAMES_HINT),
    dict(key="further_needs", kind=TEXT, required=False,
         text="What further training do you need?"),
    dict(key="comments", kind=TEXT, required=False, text="Any other comments"),
]

AREAS_CHANGED = [
    ("joint_working", "Joint working with other agencies"),
    ("information_sharing", "Information sharing"),
    ("specific_action", "Took a specific action, for example made a referral"),
    ("awareness", "Increased awareness"),
    ("recording_assessment", "Recording or assessment"),
]
BARRIERS = [
    ("time", "Time"),
    ("caseload", "Caseload"),
    ("management_support", "Management support"),
    ("systems", "Systems"),
    ("other_agencies", "Other agencies"),
    ("other", "Other"),
]

STAGE_TWO_QUESTIONS = [
    dict(key="applied", kind=YES_NO_NOT_YET, required=True,
         text="Have you used the learning from this course since?"),
    dict(key="example", kind=TEXT, required=False,
         text="Give a specific example of how you used it", hint=NO_NAMES_HINT),
    dict(key="confidence_now", kind=SCALE, required=True,
         text="How confident are you in this area of your work now?", **CONFIDENCE),
    dict(key="areas_changed", kind=CHOOSE_MANY, required=False,
         text="Which areas of your practice have changed?", hint="Select all that apply.",
         options=AREAS_CHANGED),
    dict(key="difference", kind=TEXT, required=False,
         text="What difference has this made for children and families?", hint=NO_NAMES_HINT),
    dict(key="barriers", kind=CHOOSE_MANY, required=False,
         text="Has anything made it harder to apply the learning?", hint="Select all that apply.",
         options=BARRIERS),
    dict(key="manager_comment", kind=TEXT, required=False,
         text="Your line manager’s comment",
         hint="If you went through this with your line manager, add what they said."),
    dict(key="further_needs", kind=TEXT, required=False,
         text="What further training do you need?"),
]

DEFAULT_QUESTIONS = {1: STAGE_ONE_QUESTIONS, 2: STAGE_TWO_QUESTIONS}
