import '@mdi/font/css/materialdesignicons.css'
import 'vuetify/styles'
import { createVuetify } from 'vuetify'
import { aliases, mdi } from 'vuetify/iconsets/mdi'

export function createAppVuetify(): ReturnType<typeof createVuetify> {
  return createVuetify({
    // Follows the operating system's light/dark preference.
    theme: { defaultTheme: 'system' },
    icons: { defaultSet: 'mdi', aliases, sets: { mdi } },
  })
}
