// The check-in scanner (attendance/check_in.html). Every code read (by the camera through jsQR,
// or handed to window.appCheckIn.decoded) goes into a queue kept in localStorage, so a scan is
// never lost on a poor connection or a reload; the queue is sent one scan at a time and a scan
// leaves it only once the server has answered it. The server counts each place once, so sending
// a scan again after a lost answer is safe.
(function () {
  'use strict'
  var root = document.getElementById('check-in')
  if (!root) return
  var url = root.getAttribute('data-scan-url')
  var csrf = root.getAttribute('data-csrf')
  var key = root.getAttribute('data-queue-key')
  var pending = document.getElementById('scan-pending')
  var results = document.getElementById('scan-results')
  var heading = document.getElementById('scan-results-heading')
  var count = document.getElementById('check-in-count')
  var recent = {}
  var sending = false
  var delay = 1000
  var timer = null
  var MAX_DELAY = 30000
  var REPEAT_MS = 4000

  function load () {
    try {
      var queue = JSON.parse(window.localStorage.getItem(key) || '[]')
      return Array.isArray(queue) ? queue : []
    } catch (e) {
      return []
    }
  }

  function save (queue) {
    window.localStorage.setItem(key, JSON.stringify(queue))
  }

  function showPending (problem) {
    var waiting = load().length
    if (!waiting) {
      pending.textContent = ''
    } else {
      pending.textContent = (waiting === 1 ? '1 scan' : waiting + ' scans') + ' waiting to be sent.' +
        (problem ? ' ' + problem : '')
    }
  }

  function show (data) {
    var item = document.createElement('li')
    var tag = document.createElement('strong')
    var kind = data.result === 'checked_in' ? 'green' : data.result === 'already' ? 'blue' : 'red'
    tag.className = 'govuk-tag govuk-tag--' + kind
    tag.textContent = data.result === 'checked_in' ? 'Checked in' : data.result === 'already' ? 'Already in' : 'Not checked in'
    item.appendChild(tag)
    item.appendChild(document.createTextNode(' ' + data.message))
    results.insertBefore(item, results.firstChild)
    while (results.children.length > 20) results.removeChild(results.lastChild)
    heading.hidden = false
    if (typeof data.arrived === 'number') {
      count.textContent = data.arrived + ' of ' + data.on_register + (data.on_register === 1 ? ' person' : ' people') + ' checked in.'
    }
  }

  function remove (id) {
    save(load().filter(function (scan) { return scan.id !== id }))
  }

  function retryLater (problem) {
    showPending(problem)
    if (timer) return
    timer = window.setTimeout(function () { timer = null; flush() }, delay)
    delay = Math.min(delay * 2, MAX_DELAY)
  }

  function flush () {
    if (sending) return
    var queue = load()
    showPending()
    if (!queue.length) return
    var scan = queue[0]
    sending = true
    window.fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      redirect: 'manual', // signed out: the sign-in page's redirect is not an answer to the scan
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', 'X-CSRFToken': csrf },
      body: JSON.stringify({ code: scan.code })
    }).then(function (response) {
      var json = (response.headers.get('Content-Type') || '').indexOf('application/json') === 0
      if (json && (response.status === 200 || response.status === 422)) return response.json()
      var error = new Error('status ' + response.status)
      error.status = response.type === 'opaqueredirect' ? 401 : response.status
      throw error
    }).then(function (data) {
      sending = false
      remove(scan.id)
      delay = 1000
      show(data)
      flush()
    }).catch(function (error) {
      sending = false
      var status = error && error.status
      // 400: the form token is no longer the session's (signed out, or signed in again since).
      retryLater(status === 400 || status === 401 || status === 403
        ? 'Reload this page, signing in again if asked; they will be sent then.'
        : 'They will be sent when the connection is back.')
    })
  }

  function decoded (text) {
    var code = String(text || '').trim()
    if (!code) return
    var now = Date.now()
    // The camera reads the same code many times a second: one scan per code every few seconds.
    if (recent[code] && now - recent[code] < REPEAT_MS) return
    recent[code] = now
    var queue = load()
    queue.push({ id: now + '-' + Math.random().toString(36).slice(2), code: code, at: new Date(now).toISOString() })
    save(queue)
    flush()
  }

  function startCamera () {
    var video = document.getElementById('camera')
    var area = document.getElementById('camera-area')
    var canvas = document.createElement('canvas')
    var context = canvas.getContext('2d', { willReadFrequently: true })
    navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false })
      .then(function (stream) {
        video.srcObject = stream
        area.hidden = false
        document.getElementById('camera-start-area').hidden = true
        return video.play()
      })
      .then(function () {
        var tick = function () {
          if (video.readyState === video.HAVE_ENOUGH_DATA && window.jsQR) {
            canvas.width = video.videoWidth
            canvas.height = video.videoHeight
            context.drawImage(video, 0, 0, canvas.width, canvas.height)
            var image = context.getImageData(0, 0, canvas.width, canvas.height)
            var found = window.jsQR(image.data, image.width, image.height, { inversionAttempts: 'dontInvert' })
            if (found && found.data) decoded(found.data)
          }
          window.requestAnimationFrame(tick)
        }
        window.requestAnimationFrame(tick)
      })
      .catch(function () {
        showPending()
        pending.textContent = 'The camera could not be started. Type the codes below instead.'
      })
  }

  var button = document.getElementById('camera-start')
  if (navigator.mediaDevices && navigator.mediaDevices.getUserMedia) {
    document.getElementById('camera-start-area').hidden = false
    button.addEventListener('click', startCamera)
  }
  window.addEventListener('online', function () { delay = 1000; flush() })
  window.appCheckIn = { decoded: decoded, flush: flush, queued: function () { return load().length } }
  flush()
})()
