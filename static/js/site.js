// The site's only script, loaded from a file: the Content-Security-Policy forbids
// inline scripts. Every page works without it; it only adds comfort.

// Switching the language submits its form (a button does without JS).
document.querySelectorAll("form.lang select").forEach(function (select) {
  select.addEventListener("change", function () {
    select.form.submit();
  });
});

// A destructive action (withdraw, reject, veto, terminate, revoke …) asks first: its
// button carries the question, already translated, in data-confirm. Without JS the
// form simply submits. Enter in a field submits with the form's first button, which
// the browser reports as the submitter; older browsers report none, so the form's
// first submit button stands in.
document.addEventListener("submit", function (event) {
  var button = event.submitter || event.target.querySelector("button[type=submit], button:not([type])");
  var question = button && button.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
  }
});
