import { initAll } from './govuk/govuk-frontend.min.js'

initAll()

// Progressive enhancement for long lists (the agency on the registration page): a search box
// above a <select data-app-filter="label"> narrows its options. Without JavaScript the plain
// select still works, and the select keeps its own label, hint and error message.
function initSelectFilters () {
  document.querySelectorAll('select[data-app-filter]').forEach((select) => {
    const group = select.closest('.govuk-form-group') || select
    const options = Array.from(select.options)
    const placeholder = options.find((option) => option.value === '' || option.value === '0')
    const choices = options.filter((option) => option !== placeholder)
    const noun = select.dataset.appFilterNoun || 'options'

    const wrapper = document.createElement('div')
    wrapper.className = 'govuk-form-group'
    const label = document.createElement('label')
    label.className = 'govuk-label'
    label.htmlFor = `${select.id}-filter`
    label.textContent = select.dataset.appFilter
    const input = document.createElement('input')
    input.className = 'govuk-input govuk-!-width-two-thirds'
    input.id = `${select.id}-filter`
    input.type = 'search'
    input.autocomplete = 'off'
    input.spellcheck = false
    input.setAttribute('aria-controls', select.id)
    input.setAttribute('aria-describedby', `${select.id}-filter-status`)
    const status = document.createElement('p')
    status.className = 'govuk-hint govuk-!-margin-top-1 govuk-!-margin-bottom-0'
    status.id = `${select.id}-filter-status`
    status.setAttribute('role', 'status')
    wrapper.append(label, input, status)
    group.parentNode.insertBefore(wrapper, group)

    input.addEventListener('input', () => {
      const words = input.value.toLowerCase().split(/\s+/).filter(Boolean)
      const matches = choices.filter((option) => {
        const text = option.text.toLowerCase()
        return words.every((word) => text.includes(word))
      })
      const shown = matches.slice()
      const selected = select.selectedOptions[0]
      if (selected && selected !== placeholder && !shown.includes(selected)) shown.unshift(selected)
      select.replaceChildren(...(placeholder ? [placeholder] : []), ...shown)
      if (matches.length === 1 && (!selected || selected === placeholder)) {
        matches[0].selected = true
      }
      if (!words.length) {
        status.textContent = ''
      } else if (!matches.length) {
        status.textContent = `No ${noun} match “${input.value.trim()}”. Check the spelling or try part of the name.`
      } else if (matches.length === 1) {
        status.textContent = `1 match: ${matches[0].text}. It is now chosen in the list below.`
      } else {
        status.textContent = `${matches.length} ${noun} match. Choose yours from the list below.`
      }
    })
  })
}

initSelectFilters()
