export { createAppVuetify } from './vuetify'
