/* "Near me" on the task board: fills near=LON,LAT from the browser's location into the
   filter form and submits it. Without JavaScript or location the field can be typed in. */
(function () {
  "use strict";
  var button = document.getElementById("near-me");
  var field = document.getElementById("t-near");
  var status = document.getElementById("near-me-status");
  if (!button || !field || !("geolocation" in navigator)) {
    return;
  }
  button.hidden = false;
  button.addEventListener("click", function () {
    status.textContent = button.dataset.locating;
    navigator.geolocation.getCurrentPosition(function (position) {
      // Four decimals (about 10 m) is precise enough to sort tasks by distance.
      field.value = position.coords.longitude.toFixed(4) + "," + position.coords.latitude.toFixed(4);
      status.textContent = "";
      field.form.submit();
    }, function () {
      status.textContent = button.dataset.failed;
    }, { maximumAge: 300000, timeout: 15000 });
  });
})();
