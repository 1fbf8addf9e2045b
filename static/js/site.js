// The site's only script, loaded from a file: the Content-Security-Policy forbids
// inline scripts. Switching the language submits its form (a button does without JS).
document.querySelectorAll("form.lang select").forEach(function (select) {
  select.addEventListener("change", function () {
    select.form.submit();
  });
});
