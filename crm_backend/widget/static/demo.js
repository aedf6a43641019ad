// The demo shop's sign-in switch: "Sign in as Alice" asks the CRM's development-only
// endpoint for a signed customer token and hands it to the widget.
(function () {
  "use strict";
  var KEY = "demo-shop:customer";
  var button = document.getElementById("demo-sign-in");
  var status = document.getElementById("account-status");

  function show(customer) {
    button.setAttribute("aria-pressed", customer ? "true" : "false");
    button.textContent = customer ? "Sign out" : "Sign in as Alice (demo)";
    status.textContent = customer ? "Signed in as " + customer.full_name : "Not signed in";
  }

  function saved() {
    try {
      var customer = JSON.parse(sessionStorage.getItem(KEY) || "null");
      return customer && new Date(customer.expires_at) > new Date() ? customer : null;
    } catch (e) {
      return null;
    }
  }

  function signIn() {
    button.disabled = true;
    fetch("/demo/token", { method: "POST" })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) throw new Error(body.detail || "sign-in refused");
          return body;
        });
      })
      .then(function (customer) {
        sessionStorage.setItem(KEY, JSON.stringify(customer));
        window.SupportWidget.setCustomerToken(customer.token);
        show(customer);
      })
      .catch(function (error) {
        status.textContent = "Sign-in failed: " + error.message;
      })
      .finally(function () {
        button.disabled = false;
      });
  }

  function signOut() {
    sessionStorage.removeItem(KEY);
    // A shared computer: the next visitor must not see this customer's conversation.
    window.SupportWidget.reset();
    window.SupportWidget.setCustomerToken(null);
    show(null);
  }

  var customer = saved();
  if (customer && window.SupportWidget) window.SupportWidget.setCustomerToken(customer.token);
  show(customer);
  button.addEventListener("click", function () {
    if (button.getAttribute("aria-pressed") === "true") signOut();
    else signIn();
  });
})();
