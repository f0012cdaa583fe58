"""Competencies: the competency library, rating scales, appraisal forms (built and versioned
by HR) and the rules that say which appraisal form applies to whom.

One spelling per topic, so that a file's name says what it holds:

- "form" alone means a Django form: they live in ``competencies/forms/`` (``library``,
  ``builder``, ``assignment``) and only turn posted text into values.
- What HR builds and people are appraised with is an **appraisal form** (``AppraisalForm``,
  its versions ``FormVersion``): ``services/appraisal_forms.py``, ``selectors/appraisal_forms.py``,
  ``views/appraisal_forms.py``, ``templates/competencies/appraisal_forms/``. The URL names
  (``form_list``, ``form_detail``...) and paths (``/competencies/forms/``) keep their short form.
- **Assignment** is which appraisal form applies to whom (``AssignmentRule``; the "rules" page).
- The **library** is the competencies with their indicators, and the rating scales.

Where things are: who may see and do what in ``access.py``; reads in ``selectors/`` (with
``preview``, a version as the people appraised with it see it); writes in ``services/`` (with
``validation``, the rules every write checks); pages in ``views/`` (``library``,
``appraisal_forms``, ``builder`` — a version's builder page —, ``assignment``); the API in ``api/``.
"""
